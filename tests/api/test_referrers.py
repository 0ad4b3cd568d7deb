"""GET /v2/<name>/referrers/<digest>: the OCI 1.1 referrers index, its descriptors, filtering, deletes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.images import EMPTY_JSON, OCI_CONFIG, artifact, docker_image, empty_artifact_document, index, of
from testkit.registry import OCI_INDEX, OCI_MANIFEST, Helper, Pushed, error_codes, sha256

pytestmark = pytest.mark.anyio

SBOM = "application/vnd.example.sbom.v1"
SIGNATURE = "application/vnd.example.signature.v1"
CONFIG_TYPED = "application/vnd.example.config-as-type.v1+json"
ANNOTATION = "org.opencontainers.conformance.test"


async def referrers(
    client: httpx.AsyncClient, name: str, digest: str, artifact_type: str | None = None
) -> tuple[list[dict[str, Any]], httpx.Response]:
    params = {"artifactType": artifact_type} if artifact_type is not None else None
    r = await client.get(f"/v2/{name}/referrers/{digest}", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == OCI_INDEX
    body = r.json()
    assert body["schemaVersion"] == 2
    assert body["mediaType"] == OCI_INDEX
    assert isinstance(body["manifests"], list)
    return body["manifests"], r


def by_digest(descriptors: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {d["digest"]: d for d in descriptors}
    assert len(out) == len(descriptors), "a referrer is listed twice"
    return out


async def setup_referrers(push: Helper, name: str) -> tuple[Pushed, dict[str, Pushed]]:
    """An image and four referrers of it, as the conformance suite builds them."""
    subject = await push.image(name, "v1")
    refs = {
        "sbom": await artifact(
            push, name, None, artifact_type=SBOM, subject=subject, annotations={ANNOTATION: "sbom"}
        ),
        "sbom2": await artifact(
            push,
            name,
            None,
            artifact_type=SBOM,
            subject=subject,
            annotations={ANNOTATION: "sbom2"},
            payload=b"2",
        ),
        # no artifactType: the config's media type stands in for it
        "config": await artifact(
            push,
            name,
            None,
            artifact_type=None,
            config_media_type=CONFIG_TYPED,
            subject=subject,
            annotations={ANNOTATION: "config"},
        ),
        "signature": await artifact(
            push, name, "sig", artifact_type=SIGNATURE, subject=subject, annotations={ANNOTATION: "sig"}
        ),
    }
    bundle = await index(push, name, None, [await push.image(name, None, seed=b"child")])
    document = json.loads(bundle.content)
    document.update(artifactType=SBOM, subject=of(subject), annotations={ANNOTATION: "index"})
    refs["index"] = await push.manifest(name, None, document, OCI_INDEX)
    return subject, refs


async def test_lists_every_referrer_with_its_descriptor(client: httpx.AsyncClient, push: Helper) -> None:
    subject, refs = await setup_referrers(push, "app")
    listed, r = await referrers(client, "app", subject.digest)
    assert "OCI-Filters-Applied" not in r.headers
    found = by_digest(listed)
    assert set(found) == {p.digest for p in refs.values()}
    expected_types = {
        "sbom": SBOM,
        "sbom2": SBOM,
        "config": CONFIG_TYPED,
        "signature": SIGNATURE,
        "index": SBOM,
    }
    for key, pushed in refs.items():
        d = found[pushed.digest]
        assert d == {
            "mediaType": OCI_INDEX if key == "index" else OCI_MANIFEST,
            "digest": pushed.digest,
            "size": len(pushed.content),
            "artifactType": expected_types[key],
            "annotations": {ANNOTATION: key if key != "signature" else "sig"},
        }, key


async def test_artifact_type_filter(client: httpx.AsyncClient, push: Helper) -> None:
    subject, refs = await setup_referrers(push, "app")
    listed, r = await referrers(client, "app", subject.digest, SBOM)
    assert r.headers["OCI-Filters-Applied"] == "artifactType"
    assert set(by_digest(listed)) == {refs["sbom"].digest, refs["sbom2"].digest, refs["index"].digest}
    listed, r = await referrers(client, "app", subject.digest, CONFIG_TYPED)
    assert [d["digest"] for d in listed] == [refs["config"].digest]
    assert r.headers["OCI-Filters-Applied"] == "artifactType"


async def test_filter_without_matches_is_an_empty_list(client: httpx.AsyncClient, push: Helper) -> None:
    subject, _ = await setup_referrers(push, "app")
    listed, r = await referrers(client, "app", subject.digest, "application/vnd.nothing")
    assert listed == []
    assert r.headers["OCI-Filters-Applied"] == "artifactType"


async def test_unknown_subject_is_an_empty_index(client: httpx.AsyncClient, push: Helper) -> None:
    await push.image("app", "v1")
    listed, r = await referrers(client, "app", sha256(b"hello world"))
    assert listed == []
    assert r.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


async def test_subject_without_referrers_is_an_empty_index(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("app", "v1")
    listed, _ = await referrers(client, "app", image.digest)
    assert listed == []


async def test_referrers_of_a_subject_never_pushed(client: httpx.AsyncClient, push: Helper) -> None:
    await push.blob("app", EMPTY_JSON)
    ghost = Pushed(sha256(b"not yet"), b"not yet", OCI_MANIFEST)
    sig = await push.manifest("app", None, empty_artifact_document(subject=of(ghost)))
    listed, _ = await referrers(client, "app", ghost.digest)
    assert [d["digest"] for d in listed] == [sig.digest]
    assert listed[0]["artifactType"] == SIGNATURE


async def test_deleted_referrer_is_gone(client: httpx.AsyncClient, push: Helper) -> None:
    subject, refs = await setup_referrers(push, "app")
    r = await client.delete(f"/v2/app/manifests/{refs['sbom'].digest}")
    assert r.status_code == 202
    listed, _ = await referrers(client, "app", subject.digest)
    assert refs["sbom"].digest not in by_digest(listed)
    assert len(listed) == len(refs) - 1


async def test_untagging_a_referrer_keeps_it(client: httpx.AsyncClient, push: Helper) -> None:
    subject, refs = await setup_referrers(push, "app")
    r = await client.delete("/v2/app/manifests/sig")
    assert r.status_code == 202
    listed, _ = await referrers(client, "app", subject.digest)
    assert refs["signature"].digest in by_digest(listed)


async def test_deleting_the_subject_keeps_its_referrers_listed(
    client: httpx.AsyncClient, push: Helper
) -> None:
    subject, refs = await setup_referrers(push, "app")
    r = await client.delete(f"/v2/app/manifests/{subject.digest}")
    assert r.status_code == 202
    listed, _ = await referrers(client, "app", subject.digest)
    assert set(by_digest(listed)) == {p.digest for p in refs.values()}


async def test_pushing_a_referrer_twice_lists_it_once(client: httpx.AsyncClient, push: Helper) -> None:
    subject = await push.image("app", "v1")
    first = await artifact(push, "app", None, subject=subject)
    again = await artifact(push, "app", "tagged", subject=subject)
    assert first.digest == again.digest
    listed, _ = await referrers(client, "app", subject.digest)
    assert [d["digest"] for d in listed] == [first.digest]


async def test_referrers_are_per_repository(client: httpx.AsyncClient, push: Helper) -> None:
    subject = await push.image("one", "v1")
    await push.image("two", "v1")
    sig = await artifact(push, "one", None, subject=subject)
    listed, _ = await referrers(client, "two", subject.digest)
    assert listed == []
    listed, _ = await referrers(client, "one", subject.digest)
    assert [d["digest"] for d in listed] == [sig.digest]


async def test_referrer_of_an_index_and_of_a_docker_image(client: httpx.AsyncClient, push: Helper) -> None:
    docker = await docker_image(push, "app", "docker")
    idx = await index(push, "app", "multi", [docker])
    for subject in (docker, idx):
        sig = await artifact(push, "app", None, subject=subject, payload=subject.digest.encode())
        listed, _ = await referrers(client, "app", subject.digest)
        assert [d["digest"] for d in listed] == [sig.digest]


async def test_image_with_subject_and_no_artifact_type_uses_config_media_type(
    client: httpx.AsyncClient, push: Helper
) -> None:
    subject = await push.image("app", "v1")
    child = await push.image("app", None, subject=subject, seed=b"child")
    listed, _ = await referrers(client, "app", subject.digest)
    assert listed == [
        {
            "mediaType": OCI_MANIFEST,
            "digest": child.digest,
            "size": len(child.content),
            "artifactType": OCI_CONFIG,
        }
    ]


async def test_referrer_without_annotations_has_none(client: httpx.AsyncClient, push: Helper) -> None:
    subject = await push.image("app", "v1")
    sig = await artifact(push, "app", None, subject=subject)
    listed, _ = await referrers(client, "app", subject.digest)
    assert "annotations" not in listed[0]
    assert listed[0]["digest"] == sig.digest


@pytest.mark.parametrize("digest", ["sha256:abc", "notadigest", "sha256:" + "Z" * 64])
async def test_invalid_digest_is_400_digest_invalid(
    client: httpx.AsyncClient, push: Helper, digest: str
) -> None:
    await push.image("app", "v1")
    r = await client.get(f"/v2/app/referrers/{digest}")
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["DIGEST_INVALID"]


async def test_repository_without_content_is_an_empty_index(client: httpx.AsyncClient) -> None:
    """distribution-spec: a registry with the referrers API must not answer 404 here (clients read 404 as
    "no referrers API"); the redesigned OCI suite checks it on a repository nothing was pushed to yet."""
    descriptors, _ = await referrers(client, "never/pushed", sha256(b"x"))
    assert descriptors == []


async def test_invalid_name_is_400_name_invalid(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/v2/UPPER/referrers/{sha256(b'x')}")
    assert r.status_code == 400
    assert error_codes(r) == ["NAME_INVALID"]
