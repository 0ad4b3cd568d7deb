"""Content discovery: tag lists (whole and paginated, with Link) and the referrers API (OCI "Content Discovery")."""

from __future__ import annotations

from typing import Any

from registry_client.pagination import next_link
from registry_spec import urls
from registry_toolkit.validate.checks.context import Context, error_codes
from registry_toolkit.validate.checks.suite import Suite
from registry_toolkit.validate.content import ANNOTATION, OCI_INDEX, Manifest, empty_config
from registry_toolkit.validate.session import Reply

suite = Suite("discovery", "Discover tags and referrers")
TAGS = ("test0", "test1", "test2", "test3")
TYPE_A = "application/vnd.nhl.peanut.butter.bagel"
TYPE_B = "application/vnd.nba.strawberry.jam.croissant"


def tag_list(ctx: Context, reply: Reply) -> list[str]:
    ctx.expect_status(reply, 200)
    document = reply.json()
    ctx.expect(isinstance(document, dict), "the tag list is not a JSON object", reply)
    tags = document.get("tags")
    if tags is None:
        tags = []  # distribution answers `null` for an empty list
    ctx.expect(
        isinstance(tags, list) and all(isinstance(t, str) for t in tags),
        "`tags` is not a list of strings",
        reply,
    )
    ctx.expect(
        document.get("name") == ctx.namespace,
        f"`name` is {document.get('name')!r}, expected {ctx.namespace!r}",
        reply,
    )
    return list(tags)


@suite.check("setup-tags", "Push an image under four tags", "end-7")
def setup_tags(ctx: Context) -> None:
    manifest = ctx.content.image(ctx.content.config(), [ctx.content.layer()])
    for tag in TAGS:
        ctx.push_image(tag, manifest)


@suite.check("tags-list", "GET of the tag list names the repository and every tag", "end-8a")
def tags_list(ctx: Context) -> None:
    ctx.require("discovery.setup-tags")
    reply = ctx.request("GET", urls.tags(ctx.namespace))
    tags = tag_list(ctx, reply)
    missing = [tag for tag in TAGS if tag not in tags]
    ctx.expect(not missing, f"tags {missing} are missing from the list", reply)
    ctx.store["discovery.tags"] = sorted(tags)


@suite.check(
    "tags-paginated",
    "`n` limits the tag list to its first n tags in lexical order; `last` continues after a tag",
    "end-8b",
)
def tags_paginated(ctx: Context) -> None:
    ctx.require("discovery.tags-list")
    every: list[str] = ctx.store["discovery.tags"]
    n = len(every) // 2
    reply = ctx.request("GET", urls.tags(ctx.namespace, n=n))
    page = tag_list(ctx, reply)
    ctx.expect(
        page == every[:n],
        f"n={n} answered {page}, expected the first {n} in lexical order: {every[:n]}",
        reply,
    )
    reply = ctx.request("GET", urls.tags(ctx.namespace, n=n, last=page[-1]))
    rest = tag_list(ctx, reply)
    wanted = every[n : 2 * n]
    ctx.expect(rest == wanted, f"n={n}&last={page[-1]} answered {rest}, expected {wanted}", reply)


@suite.check("tags-link", 'A cut tag list carries a Link rel="next" that walks the rest', "end-8b")
def tags_link(ctx: Context) -> None:
    ctx.require("discovery.tags-paginated")
    every: list[str] = ctx.store["discovery.tags"]
    url: str | None = urls.tags(ctx.namespace, n=1)
    seen: list[str] = []
    while url is not None and len(seen) <= len(every):
        reply = ctx.request("GET", url)
        seen += tag_list(ctx, reply)
        url = next_link(reply.response)
        if url is None and len(seen) < len(every):
            ctx.fail(
                f'the page ending at {seen[-1] if seen else None!r} has no Link rel="next", '
                f"though {len(every) - len(seen)} tags follow",
                reply,
            )
    ctx.expect(seen == every, f"walking the Links gave {seen}, expected {every}")


@suite.check(
    "tags-unknown-repository", "The tag list of an unknown repository is 404 NAME_UNKNOWN", "end-8a", "code-9"
)
def tags_unknown_repository(ctx: Context) -> None:
    reply = ctx.request("GET", urls.tags(f"{ctx.namespace}/never-pushed-{ctx.content.token(8)}"))
    ctx.expect_error(reply, 404, "NAME_UNKNOWN")


# --- referrers ------------------------------------------------------------------------------------
def artifacts(ctx: Context) -> dict[str, Any]:
    """The subject image, five artifacts referring to it (A and B typed by config and by artifactType, an
    index) and one whose subject was never pushed."""
    found: dict[str, Any] | None = ctx.store.get("discovery.artifacts")
    if found is not None:
        return found
    content = ctx.content
    subject = content.image(content.config(), [content.layer()])
    absent = content.image(content.config(), [content.layer()])
    payload_a, payload_b = content.blob(33, TYPE_A), content.blob(38, TYPE_B)
    typed_a = content.blob(33, TYPE_A)
    typed_b = content.blob(38, TYPE_B)
    empty = empty_config()
    made = {
        "config-a": content.image(
            typed_a, [empty], subject=subject, annotations={ANNOTATION: "test config a"}
        ),
        "layer-a": content.image(
            empty,
            [payload_a],
            subject=subject,
            artifact_type=TYPE_A,
            annotations={ANNOTATION: "test layer a"},
        ),
        "config-b": content.image(
            typed_b, [empty], subject=subject, annotations={ANNOTATION: "test config b"}
        ),
        "layer-b": content.image(
            empty,
            [payload_b],
            subject=subject,
            artifact_type=TYPE_B,
            annotations={ANNOTATION: "test layer b"},
        ),
    }
    made["index"] = content.index(
        [made["config-a"], made["layer-a"]],
        subject=subject,
        artifact_type="application/vnd.food.stand",
        annotations={ANNOTATION: "test index"},
    )
    dangling = content.image(
        empty, [payload_b], subject=absent, artifact_type=TYPE_B, annotations={ANNOTATION: "c"}
    )
    found = {"subject": subject, "absent": absent, "referrers": made, "dangling": dangling}
    ctx.store["discovery.artifacts"] = found
    return found


@suite.check(
    "subject-accepted", "Manifests with a `subject` are accepted, also when the subject is absent", "end-7"
)
def subject_accepted(ctx: Context) -> None:
    made = artifacts(ctx)
    headers: dict[str, str | None] = {}
    ctx.push_image("referrers-subject", made["subject"])
    for name, manifest in [*made["referrers"].items(), ("dangling", made["dangling"])]:
        ctx.ensure(*manifest.blobs)
        reply = ctx.put_manifest(manifest.digest, manifest)
        ctx.expect_status(reply, 201, what=f"for the {name} artifact")
        headers[name] = reply.header("OCI-Subject")
    ctx.store["discovery.subject-headers"] = headers


@suite.check(
    "subject-header",
    "A manifest PUT with a subject answers OCI-Subject: <subject digest>",
    "end-7",
    feature="referrers",
)
def subject_header(ctx: Context) -> None:
    ctx.require("discovery.subject-accepted")
    made = artifacts(ctx)
    headers: dict[str, str | None] = ctx.store["discovery.subject-headers"]
    if all(value is None for value in headers.values()):
        ctx.unsupported("referrers", "no manifest PUT with a subject answered OCI-Subject")
    for name, value in headers.items():
        want = made["absent" if name == "dangling" else "subject"].digest
        ctx.expect(
            value == want, f"the {name} artifact's PUT answered OCI-Subject {value!r}, expected {want}"
        )


def referrers(
    ctx: Context, digest: str, artifact_type: str | None = None
) -> tuple[Reply, list[dict[str, Any]]]:
    url = urls.referrers(ctx.namespace, digest) + (f"?artifactType={artifact_type}" if artifact_type else "")
    reply = ctx.request("GET", url)
    if reply.status == 404 and not _is_registry_error(reply):
        ctx.unsupported("referrers", "GET /v2/<name>/referrers/<digest> is not routed (404)", reply)
    ctx.expect_status(reply, 200)
    ctx.expect_header(reply, "Content-Type", OCI_INDEX)
    document = reply.json()
    ctx.expect(
        isinstance(document, dict) and isinstance(document.get("manifests"), list),
        "not an image index",
        reply,
    )
    ctx.expect(document.get("mediaType") == OCI_INDEX, f"mediaType is {document.get('mediaType')!r}", reply)
    return reply, document["manifests"]


def _is_registry_error(reply: Reply) -> bool:
    return error_codes(reply) is not None


@suite.check(
    "referrers-empty",
    "Referrers of an unknown digest: 200 with an empty image index",
    "end-12a",
    feature="referrers",
)
def referrers_empty(ctx: Context) -> None:
    reply, found = referrers(ctx, ctx.dummy_digest)
    ctx.expect(found == [], f"{len(found)} referrers listed for a digest nothing refers to", reply)


@suite.check(
    "referrers-empty-repository",
    "Referrers in a repository nothing was pushed to: 200 with an empty image index, never 404",
    "end-12a",
    feature="referrers",
)
def referrers_empty_repository(ctx: Context) -> None:
    """The redesigned OCI suite asks this first, before any push: a registry with the referrers API must not
    answer 404 (clients read it as "no referrers API"), also where the repository has no content yet."""
    name = f"{ctx.namespace}/never-pushed-{ctx.content.token(8)}"
    reply = ctx.request("GET", urls.referrers(name, ctx.dummy_digest))
    if reply.status == 404 and not _is_registry_error(reply):
        ctx.unsupported("referrers", "GET /v2/<name>/referrers/<digest> is not routed (404)", reply)
    ctx.expect(
        reply.status != 404,
        f"404 {error_codes(reply)} for a repository without content: the referrers API must answer 200",
        reply,
    )
    ctx.expect_status(reply, 200)
    ctx.expect_header(reply, "Content-Type", OCI_INDEX)
    document = reply.json()
    ctx.expect(
        isinstance(document, dict) and document.get("manifests") == [] and document.get("schemaVersion") == 2,
        "not an empty image index",
        reply,
    )


def _expect_descriptors(
    ctx: Context, reply: Reply, found: list[dict[str, Any]], wanted: list[Manifest]
) -> None:
    digests = sorted(str(entry.get("digest")) for entry in found)
    ctx.expect(
        digests == sorted(m.digest for m in wanted),
        f"referrers {digests}, expected {sorted(m.digest for m in wanted)}",
        reply,
    )
    by_digest = {m.digest: m for m in wanted}
    for entry in found:
        manifest = by_digest[entry["digest"]]
        ctx.expect(
            entry.get("size") == len(manifest.content), f"{entry['digest']}: size {entry.get('size')}", reply
        )
        ctx.expect(
            entry.get("mediaType") == manifest.media_type,
            f"{entry['digest']}: mediaType {entry.get('mediaType')!r}",
            reply,
        )
        annotations = entry.get("annotations") or {}
        ctx.expect(
            ANNOTATION in annotations, f"{entry['digest']}: the manifest's annotations are not copied", reply
        )
        ctx.expect(bool(entry.get("artifactType")), f"{entry['digest']}: no artifactType", reply)


@suite.check(
    "referrers-list",
    "Referrers of the subject: every referring manifest, with artifactType and annotations",
    "end-12a",
    feature="referrers",
)
def referrers_list(ctx: Context) -> None:
    ctx.require("discovery.subject-accepted")
    made = artifacts(ctx)
    reply, found = referrers(ctx, made["subject"].digest)
    _expect_descriptors(ctx, reply, found, list(made["referrers"].values()))


@suite.check(
    "referrers-filter",
    "artifactType filters the referrers and OCI-Filters-Applied says so",
    "end-12b",
    feature="referrers",
)
def referrers_filter(ctx: Context) -> None:
    ctx.require("discovery.subject-accepted")
    made = artifacts(ctx)
    reply, found = referrers(ctx, made["subject"].digest, TYPE_A)
    if reply.header("OCI-Filters-Applied") is None:
        _expect_descriptors(ctx, reply, found, list(made["referrers"].values()))
        ctx.unsupported("referrers", "the artifactType filter is not applied (no OCI-Filters-Applied)", reply)
    ctx.expect_header(reply, "OCI-Filters-Applied", "artifactType")
    _expect_descriptors(ctx, reply, found, [made["referrers"]["config-a"], made["referrers"]["layer-a"]])


@suite.check(
    "referrers-absent-subject",
    "Referrers of a subject never pushed list the manifests naming it",
    "end-12a",
    feature="referrers",
)
def referrers_absent_subject(ctx: Context) -> None:
    ctx.require("discovery.subject-accepted")
    made = artifacts(ctx)
    reply, found = referrers(ctx, made["absent"].digest)
    _expect_descriptors(ctx, reply, found, [made["dangling"]])
