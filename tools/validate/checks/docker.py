"""Docker Registry V2 extras: schema 2 and manifest lists, Docker-Content-Digest, Range, ETag/304, the catalog
and its Link pagination, the error envelope, upload session headers."""

from __future__ import annotations

from registry_client.pagination import next_link
from registry_spec import urls
from registry_toolkit.validate.checks.context import Context, error_codes
from registry_toolkit.validate.checks.suite import Suite
from registry_toolkit.validate.content import DOCKER_LIST, DOCKER_MANIFEST, Manifest
from registry_toolkit.validate.session import Reply, with_query

suite = Suite("docker", "Docker Registry V2 behaviour beyond the OCI suite")
SCHEMA2_TAG = "docker-schema2"
LIST_TAG = "docker-list"
API_VERSION = "registry/2.0"


def schema2(ctx: Context, key: str = "docker.schema2") -> Manifest:
    found: Manifest | None = ctx.store.get(key)
    if found is None:
        found = ctx.content.docker_image()
        ctx.store[key] = found
    return found


@suite.check("api-version", "Answers carry Docker-Distribution-API-Version: registry/2.0", "base")
def api_version(ctx: Context) -> None:
    ctx.expect_header(ctx.request("GET", urls.base()), "Docker-Distribution-API-Version", API_VERSION)


@suite.check("schema2", "A Docker schema 2 manifest round-trips with its media type", "end-7", "end-3")
def schema2_round_trip(ctx: Context) -> None:
    manifest = schema2(ctx)
    ctx.push_image(SCHEMA2_TAG, manifest)
    reply = ctx.get_manifest(SCHEMA2_TAG, DOCKER_MANIFEST)
    ctx.expect_status(reply, 200)
    ctx.expect_header(reply, "Content-Type", DOCKER_MANIFEST)
    ctx.expect_body(reply, manifest.content, "the schema 2 manifest")


@suite.check("manifest-list", "A Docker manifest list round-trips with its media type", "end-7", "end-3")
def manifest_list(ctx: Context) -> None:
    children = [schema2(ctx), schema2(ctx, "docker.schema2-arm")]
    for child in children:
        ctx.push_image(child.digest, child)
    listing = ctx.content.index(children, media_type=DOCKER_LIST)
    ctx.push_image(LIST_TAG, listing)
    reply = ctx.get_manifest(LIST_TAG, DOCKER_LIST)
    ctx.expect_status(reply, 200)
    ctx.expect_header(reply, "Content-Type", DOCKER_LIST)
    ctx.expect_body(reply, listing.content, "the manifest list")


@suite.check(
    "manifest-list-unknown-child",
    "A manifest list naming a manifest the repository lacks is 400 MANIFEST_BLOB_UNKNOWN",
    "end-7",
    "code-5",
)
def manifest_list_unknown_child(ctx: Context) -> None:
    listing = ctx.content.index([ctx.content.docker_image()], media_type=DOCKER_LIST)
    reply = ctx.put_manifest("docker-list-broken", listing)
    ctx.expect_error(reply, 400, "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "BLOB_UNKNOWN")


@suite.check(
    "content-digest",
    "Docker-Content-Digest names the content on blob and manifest GET/HEAD and on every 201",
    "end-2",
    "end-3",
    "end-6",
    "end-7",
)
def content_digest(ctx: Context) -> None:
    manifest = ctx.content.docker_image()
    config = manifest.blobs[0]
    started = ctx.start_upload()
    created = ctx.request("PUT", with_query(started.location, digest=config.digest), None, config.data)
    ctx.expect_status(created, 201)
    ctx.expect_header(created, "Docker-Content-Digest", config.digest)
    ctx.ensure(*manifest.blobs[1:])
    put = ctx.put_manifest("docker-digest", manifest)
    ctx.expect_status(put, 201)
    ctx.expect_header(put, "Docker-Content-Digest", manifest.digest)
    for method in ("HEAD", "GET"):
        reply = ctx.request(method, urls.blob(ctx.namespace, config.digest))
        if reply.status in (301, 302, 303, 307, 308):
            continue  # served from elsewhere: the redirect is not the blob
        ctx.expect_status(reply, 200)
        ctx.expect_header(reply, "Docker-Content-Digest", config.digest)
        reply = ctx.get_manifest("docker-digest", DOCKER_MANIFEST, method=method)
        ctx.expect_status(reply, 200)
        ctx.expect_header(reply, "Docker-Content-Digest", manifest.digest)


@suite.check(
    "blob-range", "GET of a blob with Range: bytes=a-b is 206 with Content-Range and those bytes", "end-2"
)
def blob_range(ctx: Context) -> None:
    blob = ctx.content.blob(100)
    ctx.ensure(blob)
    reply = ctx.get_blob(blob.digest, headers={"Range": "bytes=10-29"})
    ctx.expect_status(reply, 206)
    ctx.expect_header(reply, "Content-Range", f"bytes 10-29/{blob.size}")
    ctx.expect_body(reply, blob.data[10:30], "bytes 10-29 of the blob")


@suite.check(
    "blob-range-forms",
    "Open-ended, suffix and overlong ranges are 206 with the bytes there are; a range past the end is 416",
    "end-2",
)
def blob_range_forms(ctx: Context) -> None:
    """The redesigned OCI suite's range requests on a 2048-byte blob (its inverted ``bytes=500-0`` is left out:
    distribution answers it 416 with a body shorter than its Content-Length, which breaks the connection)."""
    blob = ctx.content.blob(2048)
    ctx.ensure(blob)
    size = blob.size
    for header, first in (("bytes=500-", 500), ("bytes=-500", size - 500), ("bytes=2000-5000", 2000)):
        reply = ctx.get_blob(blob.digest, headers={"Range": header})
        ctx.expect_status(reply, 206, what=f"for Range: {header}")
        ctx.expect(
            reply.header("Content-Range")
            in (f"bytes {first}-{size - 1}/{size}", f"bytes {first}-{size - 1}/*"),
            f"Range: {header} answered Content-Range {reply.header('Content-Range')!r}",
            reply,
        )
        ctx.expect_body(reply, blob.data[first:], f"the bytes of Range: {header}")
    reply = ctx.get_blob(blob.digest, headers={"Range": "bytes=5000-10000"})
    ctx.expect_status(reply, 416, what="for a range starting past the end")


def _expect_not_modified(ctx: Context, url: str, headers: dict[str, str]) -> None:
    reply = ctx.request("GET", url, headers)
    ctx.expect_status(reply, 200)
    etag = ctx.expect_header(reply, "ETag")
    again = ctx.request("GET", url, {**headers, "If-None-Match": etag})
    ctx.expect_status(again, 304, what="for If-None-Match with the ETag just served")


@suite.check("manifest-etag", "A manifest GET has an ETag; If-None-Match with it is 304", "end-3")
def manifest_etag(ctx: Context) -> None:
    manifest = schema2(ctx)
    ctx.push_image(SCHEMA2_TAG, manifest)
    _expect_not_modified(ctx, urls.manifest(ctx.namespace, manifest.digest), {"Accept": DOCKER_MANIFEST})


@suite.check("blob-etag", "A blob GET has an ETag; If-None-Match with it is 304", "end-2")
def blob_etag(ctx: Context) -> None:
    blob = ctx.content.blob()
    ctx.ensure(blob)
    _expect_not_modified(ctx, urls.blob(ctx.namespace, blob.digest), {})


@suite.check(
    "manifest-head", "HEAD of a manifest answers GET's Content-Type, Content-Length and digest", "end-3"
)
def manifest_head(ctx: Context) -> None:
    manifest = schema2(ctx)
    ctx.push_image(SCHEMA2_TAG, manifest)
    head = ctx.get_manifest(SCHEMA2_TAG, DOCKER_MANIFEST, method="HEAD")
    ctx.expect_status(head, 200)
    ctx.expect_header(head, "Content-Type", DOCKER_MANIFEST)
    ctx.expect_header(head, "Content-Length", str(len(manifest.content)))
    ctx.expect_optional_header(head, "Docker-Content-Digest", manifest.digest)
    ctx.expect(head.content == b"", "HEAD answered a body", head)


def catalog_page(ctx: Context, reply: Reply) -> list[str]:
    if reply.status in (401, 403, 404, 405) or (
        reply.status == 400 and "UNSUPPORTED" in (error_codes(reply) or [])
    ):
        ctx.unsupported("catalog", f"GET /v2/_catalog answered {reply.status}", reply)
    ctx.expect_status(reply, 200)
    document = reply.json()
    repositories = document.get("repositories") if isinstance(document, dict) else None
    ctx.expect(isinstance(repositories, list), "`repositories` is not a list", reply)
    return [str(name) for name in repositories or []]


def _catalog_repositories(ctx: Context) -> tuple[str, str]:
    """Two repositories of this run, next to each other in the catalog: the namespace and a child of it."""
    child = f"{ctx.namespace}/catalog"
    ctx.ensure(schema2(ctx).blobs[0])
    ctx.ensure(schema2(ctx).blobs[0], repo=child)
    return ctx.namespace, child


@suite.check("catalog", "The catalog lists the run's repository", "catalog", feature="catalog")
def catalog(ctx: Context) -> None:
    first, _ = _catalog_repositories(ctx)
    reply = ctx.request("GET", urls.catalog(n=5, last=first[:-1]))
    page = catalog_page(ctx, reply)
    ctx.expect(first in page, f"{first} is not in the catalog page after {first[:-1]!r}: {page}", reply)


@suite.check(
    "catalog-link",
    'A catalog page cut by `n` links to the next one (Link rel="next")',
    "catalog",
    feature="catalog",
)
def catalog_link(ctx: Context) -> None:
    first, second = _catalog_repositories(ctx)
    reply = ctx.request("GET", urls.catalog(n=1, last=first[:-1]))
    page = catalog_page(ctx, reply)
    ctx.expect(page == [first], f"n=1 after {first[:-1]!r} answered {page}, expected [{first!r}]", reply)
    link = next_link(reply.response)
    if link is None:
        ctx.fail(f'no Link rel="next" on a page cut by n=1, though {second} follows', reply)
    following = ctx.request("GET", link)
    rest = catalog_page(ctx, following)
    # Repositories of other clients may sort between the two, but none before the first.
    ctx.expect(
        bool(rest) and first < rest[0] <= second,
        f"the Link {link} answered {rest}, expected the page after {first!r} (up to {second!r})",
        following,
    )


@suite.check(
    "error-envelope",
    'Errors answer application/json with {"errors":[{code, message, detail}]}',
    "code-1",
    "code-7",
    "code-3",
)
def error_envelope(ctx: Context) -> None:
    probes = [
        ("GET", urls.blob(ctx.namespace, ctx.dummy_digest), "BLOB_UNKNOWN"),
        ("GET", urls.manifest(ctx.namespace, "validate-missing-tag"), "MANIFEST_UNKNOWN"),
        ("GET", urls.upload(ctx.namespace, "validate-" + ctx.content.token(24)), None),
    ]
    for method, url, code in probes:
        reply = ctx.request(method, url)
        ctx.expect_status(reply, 404)
        content_type = (reply.header("Content-Type") or "").split(";")[0].strip()
        ctx.expect(
            content_type == "application/json",
            f"error Content-Type is {content_type!r}, not application/json",
            reply,
        )
        ctx.expect_error(reply, 404, *((code,) if code else ()), envelope=True)


@suite.check("upload-headers", "An upload session answers Docker-Upload-UUID and Range: 0-0", "end-4a")
def upload_headers(ctx: Context) -> None:
    started = ctx.start_upload()
    uuid = ctx.expect_header(started, "Docker-Upload-UUID")
    ctx.expect(
        uuid in started.location, f"the Location {started.location} does not name session {uuid}", started
    )
    ctx.expect_header(started, "Range", "0-0")
