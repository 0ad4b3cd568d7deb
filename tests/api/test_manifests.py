"""Manifest PUT, GET and HEAD by tag and digest: every manifest kind, exact bytes, headers and failures."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.images import (
    DOCKER_CONFIG,
    DOCKER_FOREIGN,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    EMPTY_DIGEST,
    EMPTY_JSON,
    OCI_CONFIG,
    descriptor,
    docker_image,
    empty_artifact_document,
    encode,
    index,
    index_document,
    of,
)
from testkit.registry import OCI_INDEX, OCI_LAYER, OCI_MANIFEST, Helper, Pushed, error_codes, sha256

pytestmark = pytest.mark.anyio

BASE = "http://registry.test"
MAX_MANIFEST = 4 * 1024 * 1024


async def put(
    client: httpx.AsyncClient, name: str, reference: str, content: bytes, media_type: str = OCI_MANIFEST
) -> httpx.Response:
    return await client.put(
        f"/v2/{name}/manifests/{reference}", content=content, headers={"Content-Type": media_type}
    )


async def oci_document(push: Helper, name: str, seed: bytes = b"") -> dict[str, Any]:
    """An OCI image manifest whose blobs are pushed to ``name``."""
    config = b'{"architecture":"amd64","os":"linux","seed":"%s"}' % seed.hex().encode()
    layer = b"oci-layer-" + seed
    await push.blob(name, config)
    await push.blob(name, layer)
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": [descriptor(OCI_LAYER, layer)],
    }


async def assert_served(
    client: httpx.AsyncClient, name: str, reference: str, content: bytes, media_type: str
) -> None:
    """GET and HEAD give back exactly ``content`` under ``media_type``."""
    digest = sha256(content)
    r = await client.get(f"/v2/{name}/manifests/{reference}")
    assert r.status_code == 200, r.text
    assert r.content == content
    assert r.headers["Content-Type"] == media_type
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Content-Length"] == str(len(content))
    assert r.headers["ETag"] == f'"{digest}"'
    h = await client.head(f"/v2/{name}/manifests/{reference}")
    assert h.status_code == 200
    assert h.content == b""
    for header in ("Content-Type", "Docker-Content-Digest", "Content-Length", "ETag"):
        assert h.headers[header] == r.headers[header], header


async def assert_absent(client: httpx.AsyncClient, name: str, digest: str, tag: str | None = None) -> None:
    """Neither the digest nor the tag resolves, and the tag is not listed."""
    r = await client.get(f"/v2/{name}/manifests/{digest}")
    assert r.status_code == 404, r.text
    assert error_codes(r) == ["MANIFEST_UNKNOWN"]
    if tag is not None:
        r = await client.get(f"/v2/{name}/manifests/{tag}")
        assert r.status_code == 404
        assert error_codes(r) == ["MANIFEST_UNKNOWN"]
        r = await client.get(f"/v2/{name}/tags/list")
        if r.status_code == 200:
            assert tag not in r.json()["tags"]
        else:
            assert error_codes(r) == ["NAME_UNKNOWN"]


# --- PUT: every kind, by tag and by digest -------------------------------------------------------


async def test_put_by_tag_answers_201_with_location_and_digest(
    client: httpx.AsyncClient, push: Helper
) -> None:
    content = encode(await oci_document(push, "app"))
    digest = sha256(content)
    r = await put(client, "app", "v1", content)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{BASE}/v2/app/manifests/{digest}"
    assert r.headers["Docker-Content-Digest"] == digest
    assert "OCI-Subject" not in r.headers
    assert r.content == b""
    await assert_served(client, "app", "v1", content, OCI_MANIFEST)
    await assert_served(client, "app", digest, content, OCI_MANIFEST)


async def test_put_by_digest_stores_without_tagging(client: httpx.AsyncClient, push: Helper) -> None:
    content = encode(await oci_document(push, "app"))
    digest = sha256(content)
    r = await put(client, "app", digest, content)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{BASE}/v2/app/manifests/{digest}"
    assert r.headers["Docker-Content-Digest"] == digest
    await assert_served(client, "app", digest, content, OCI_MANIFEST)
    r = await client.get("/v2/app/tags/list")
    assert r.status_code == 200
    assert r.json() == {"name": "app", "tags": []}


async def test_docker_schema2_by_tag_and_digest(client: httpx.AsyncClient, push: Helper) -> None:
    image = await docker_image(push, "lib/docker", "latest")
    await assert_served(client, "lib/docker", "latest", image.content, DOCKER_MANIFEST)
    again = await docker_image(push, "lib/docker", None, seed=b"2")
    await assert_served(client, "lib/docker", again.digest, again.content, DOCKER_MANIFEST)


async def test_docker_manifest_list(client: httpx.AsyncClient, push: Helper) -> None:
    children = [await docker_image(push, "multi", None, seed=bytes([i])) for i in range(2)]
    listed = await index(push, "multi", "latest", children, DOCKER_LIST)
    await assert_served(client, "multi", "latest", listed.content, DOCKER_LIST)
    await assert_served(client, "multi", listed.digest, listed.content, DOCKER_LIST)
    for child in children:
        await assert_served(client, "multi", child.digest, child.content, DOCKER_MANIFEST)


async def test_oci_index_of_images_and_nested_index(client: httpx.AsyncClient, push: Helper) -> None:
    images = [await push.image("idx", None, seed=bytes([i])) for i in range(2)]
    inner = await index(push, "idx", None, images)
    docker = await docker_image(push, "idx", None)
    outer = await index(push, "idx", "multi", [inner, docker, *images])
    await assert_served(client, "idx", "multi", outer.content, OCI_INDEX)
    await assert_served(client, "idx", inner.digest, inner.content, OCI_INDEX)


async def test_generic_content_type_is_refused(client: httpx.AsyncClient, push: Helper) -> None:
    """Content-Type must name a manifest type (the descriptor lists them); nothing is stored otherwise."""
    content = encode(await oci_document(push, "app"))
    for content_type in ("application/json", "text/plain", "application/octet-stream"):
        r = await put(client, "app", "generic", content, content_type)
        assert r.status_code == 400, (content_type, r.text)
        assert error_codes(r) == ["MANIFEST_INVALID"]
    await assert_absent(client, "app", sha256(content), "generic")


@pytest.mark.parametrize("driver", ["inmemory"], indirect=True)  # refused before any storage call
async def test_json_go_cannot_decode_is_refused(client: httpx.AsyncClient, push: Helper) -> None:
    """NaN, Infinity and a size written as 11.0 or past int64: 400 MANIFEST_INVALID, as distribution answers
    (stored, they would be served to Go clients that cannot read them, and stop distribution's GC)."""
    content = encode(await oci_document(push, "gojson"))
    document = json.loads(content)
    size = document["layers"][0]["size"]
    plain = f'"size": {size}'.encode()
    assert plain in content
    variants = [
        content[:-1] + b', "x": NaN}',
        content[:-1] + b', "x": -Infinity}',
        content.replace(plain, plain + b".0", 1),
        content.replace(plain, b'"size": ' + str(2**70).encode(), 1),
    ]
    for body in variants:
        assert body != content
        r = await put(client, "gojson", "odd", body, OCI_MANIFEST)
        assert r.status_code == 400, (body, r.text)
        assert error_codes(r) == ["MANIFEST_INVALID"]
        await assert_absent(client, "gojson", sha256(body), "odd")
    assert (await put(client, "gojson", "odd", content, OCI_MANIFEST)).status_code == 201


async def test_missing_content_type_is_400_manifest_invalid(client: httpx.AsyncClient, push: Helper) -> None:
    """The descriptor requires Content-Type on a manifest PUT (distribution refuses it too)."""
    image = await docker_image(push, "noct", None)
    r = await client.put("/v2/noct/manifests/docker", content=image.content)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    r = await client.get("/v2/noct/tags/list")
    assert r.json()["tags"] == []


async def test_content_type_parameters_are_ignored(client: httpx.AsyncClient, push: Helper) -> None:
    content = encode(await oci_document(push, "param"))
    r = await put(client, "param", "v1", content, OCI_MANIFEST + "; charset=utf-8")
    assert r.status_code == 201, r.text
    await assert_served(client, "param", "v1", content, OCI_MANIFEST)


async def test_chunked_put_without_content_length(client: httpx.AsyncClient, push: Helper) -> None:
    content = encode(await oci_document(push, "chunked"))

    async def body() -> Any:
        for i in range(0, len(content), 7):
            yield content[i : i + 7]

    r = await client.put("/v2/chunked/manifests/v1", content=body(), headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == sha256(content)
    await assert_served(client, "chunked", "v1", content, OCI_MANIFEST)


# --- exact bytes ---------------------------------------------------------------------------------


async def test_odd_whitespace_and_key_order_are_kept_byte_for_byte(
    client: httpx.AsyncClient, push: Helper
) -> None:
    document = await oci_document(push, "bytes")
    config = document["config"]
    content = (
        f'\n{{ "layers": [],\t"config":  {{ "size": {config["size"]} ,"digest":"{config["digest"]}",\r\n'
        f'  "mediaType" : "{config["mediaType"]}" }},\n\n  "schemaVersion":2,  "mediaType": "{OCI_MANIFEST}",'
        ' "annotations": {"k": "caf\\u00e9 \u00e9t\u00e9"}  }\n\n'
    )
    raw = content.encode()
    r = await put(client, "bytes", "odd", raw)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == sha256(raw)
    await assert_served(client, "bytes", "odd", raw, OCI_MANIFEST)


async def test_pretty_printed_and_compact_copies_are_different_manifests(
    client: httpx.AsyncClient, push: Helper
) -> None:
    document = await oci_document(push, "bytes")
    compact = json.dumps(document, separators=(",", ":")).encode()
    pretty = json.dumps(document, indent=3).encode()
    a = await push.manifest("bytes", "compact", compact)
    b = await push.manifest("bytes", "pretty", pretty)
    assert a.digest != b.digest
    await assert_served(client, "bytes", "compact", compact, OCI_MANIFEST)
    await assert_served(client, "bytes", "pretty", pretty, OCI_MANIFEST)


# --- OCI 1.1 artifacts ---------------------------------------------------------------------------


async def test_artifact_with_empty_config_data_and_unknown_fields(
    client: httpx.AsyncClient, push: Helper
) -> None:
    assert await push.blob("art", EMPTY_JSON) == EMPTY_DIGEST
    document = empty_artifact_document(
        annotations={"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
        futureField={"nested": [1, 2, 3]},
    )
    document["layers"][0]["x-unknown"] = True
    content = encode(document)
    r = await put(client, "art", "sig", content)
    assert r.status_code == 201, r.text
    await assert_served(client, "art", "sig", content, OCI_MANIFEST)


async def test_artifact_without_layers_is_accepted(client: httpx.AsyncClient, push: Helper) -> None:
    await push.blob("art", EMPTY_JSON)
    document = empty_artifact_document()
    document["layers"] = []
    pushed = await push.manifest("art", None, document)
    await assert_served(client, "art", pushed.digest, pushed.content, OCI_MANIFEST)


async def test_manifest_without_media_type_is_served_as_its_content_type(
    client: httpx.AsyncClient, push: Helper
) -> None:
    document = await oci_document(push, "nomt")
    del document["mediaType"]
    image = await push.manifest("nomt", "image", document)
    await assert_served(client, "nomt", "image", image.content, OCI_MANIFEST)
    listed = index_document([image])
    del listed["mediaType"]
    idx = await push.manifest("nomt", "index", listed, OCI_INDEX)
    await assert_served(client, "nomt", "index", idx.content, OCI_INDEX)
    await assert_served(client, "nomt", idx.digest, idx.content, OCI_INDEX)


async def test_subject_sets_oci_subject_header(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("subj", "v1")
    await push.blob("subj", EMPTY_JSON)
    content = encode(empty_artifact_document(subject=of(image)))
    r = await put(client, "subj", sha256(content), content)
    assert r.status_code == 201, r.text
    assert r.headers["OCI-Subject"] == image.digest
    await assert_served(client, "subj", sha256(content), content, OCI_MANIFEST)


async def test_subject_that_does_not_exist_is_accepted(client: httpx.AsyncClient, push: Helper) -> None:
    await push.blob("subj", EMPTY_JSON)
    ghost = descriptor(OCI_MANIFEST, b"never pushed")
    content = encode(empty_artifact_document(subject=ghost))
    r = await put(client, "subj", "dangling", content)
    assert r.status_code == 201, r.text
    assert r.headers["OCI-Subject"] == ghost["digest"]
    await assert_served(client, "subj", "dangling", content, OCI_MANIFEST)


async def test_index_with_subject_and_artifact_type(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("subj", "v1")
    document = index_document([image], artifactType="application/vnd.example.bundle")
    document["subject"] = of(image)
    r = await put(client, "subj", "bundle", encode(document), OCI_INDEX)
    assert r.status_code == 201, r.text
    assert r.headers["OCI-Subject"] == image.digest


async def test_foreign_layers_need_not_be_pushed(client: httpx.AsyncClient, push: Helper) -> None:
    config = b'{"os":"windows"}'
    await push.blob("win", config)
    foreign = descriptor(DOCKER_FOREIGN, b"foreign", urls=["https://example.com/layer"])
    document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": descriptor(DOCKER_CONFIG, config),
        "layers": [foreign],
    }
    pushed = await push.manifest("win", "ltsc", document, DOCKER_MANIFEST)
    await assert_served(client, "win", "ltsc", pushed.content, DOCKER_MANIFEST)


async def test_oci_layer_with_urls_need_not_be_pushed(client: httpx.AsyncClient, push: Helper) -> None:
    document = await oci_document(push, "urls")
    document["layers"].append(
        descriptor(
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            b"elsewhere",
            urls=["https://example.com/blob"],
        )
    )
    pushed = await push.manifest("urls", "v1", document)
    await assert_served(client, "urls", "v1", pushed.content, OCI_MANIFEST)


@pytest.mark.parametrize(
    ("media_type", "urls"),
    [
        (DOCKER_FOREIGN, None),  # a foreign layer must say where it is
        (DOCKER_LAYER, ["https://example.com/layer"]),  # only foreign layers may
        (DOCKER_FOREIGN, ["ftp://example.com/layer"]),
        (DOCKER_FOREIGN, ["https://example.com/layer#frag"]),
        (DOCKER_FOREIGN, ["not a url"]),
    ],
)
async def test_bad_layer_urls_are_manifest_invalid(
    client: httpx.AsyncClient, push: Helper, media_type: str, urls: list[str] | None
) -> None:
    config = b'{"os":"windows"}'
    await push.blob("win", config)
    layer = descriptor(media_type, b"layer", **({"urls": urls} if urls else {}))
    document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": descriptor(DOCKER_CONFIG, config),
        "layers": [layer],
    }
    content = encode(document)
    r = await put(client, "win", "v1", content, DOCKER_MANIFEST)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    await assert_absent(client, "win", sha256(content), "v1")


async def test_undeclared_media_type_is_remembered_not_guessed(
    client: httpx.AsyncClient, push: Helper
) -> None:
    """An image manifest without ``mediaType`` but with an unknown ``manifests`` field stays an image."""
    document = await oci_document(push, "guess")
    del document["mediaType"]
    document["manifests"] = "not an index"
    pushed = await push.manifest("guess", "v1", document)
    await assert_served(client, "guess", "v1", pushed.content, OCI_MANIFEST)


# --- tags: overwrite, boundary lengths -----------------------------------------------------------


async def test_retagging_moves_the_tag_and_keeps_the_old_manifest(
    client: httpx.AsyncClient, push: Helper
) -> None:
    first = await push.image("move", "latest", seed=b"1")
    second = await push.image("move", "latest", seed=b"2")
    await assert_served(client, "move", "latest", second.content, OCI_MANIFEST)
    await assert_served(client, "move", first.digest, first.content, OCI_MANIFEST)


async def test_putting_the_same_manifest_twice_is_idempotent(client: httpx.AsyncClient, push: Helper) -> None:
    content = encode(await oci_document(push, "same"))
    for _ in range(2):
        r = await put(client, "same", "v1", content)
        assert r.status_code == 201
        assert r.headers["Docker-Content-Digest"] == sha256(content)
    r = await client.get("/v2/same/tags/list")
    assert r.json()["tags"] == ["v1"]


async def test_tag_of_128_characters_is_valid(client: httpx.AsyncClient, push: Helper) -> None:
    tag = "_" + "a.b-C9" * 21 + "x"
    assert len(tag) == 128
    content = encode(await oci_document(push, "longtag"))
    r = await put(client, "longtag", tag, content)
    assert r.status_code == 201, r.text
    await assert_served(client, "longtag", tag, content, OCI_MANIFEST)


@pytest.mark.parametrize("tag", ["a" * 129, ".hidden", "-dash", "sp ace", "caf\u00e9"])
async def test_invalid_tag_is_400_tag_invalid_and_stores_nothing(
    client: httpx.AsyncClient, push: Helper, tag: str
) -> None:
    content = encode(await oci_document(push, "badtag"))
    r = await put(client, "badtag", tag, content)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["TAG_INVALID"]
    await assert_absent(client, "badtag", sha256(content))
    r = await client.get("/v2/badtag/tags/list")
    assert r.json()["tags"] == []


async def test_invalid_repository_name_is_400_name_invalid(client: httpx.AsyncClient) -> None:
    r = await put(client, "Upper/Case", "v1", b"{}")
    assert r.status_code == 400
    assert error_codes(r) == ["NAME_INVALID"]


# --- PUT failures --------------------------------------------------------------------------------


async def test_too_large_manifest_is_413_manifest_invalid(client: httpx.AsyncClient, push: Helper) -> None:
    document = await oci_document(push, "big")
    document["annotations"] = {"padding": "x" * MAX_MANIFEST}
    content = encode(document)
    r = await put(client, "big", "huge", content)
    assert r.status_code == 413, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    await assert_absent(client, "big", sha256(content), "huge")


async def test_manifest_of_exactly_the_limit_is_accepted(client: httpx.AsyncClient, push: Helper) -> None:
    document = await oci_document(push, "big")
    document["annotations"] = {"padding": ""}
    pad = MAX_MANIFEST - len(encode(document))
    document["annotations"]["padding"] = "x" * pad
    content = encode(document)
    assert len(content) == MAX_MANIFEST
    r = await put(client, "big", "edge", content)
    assert r.status_code == 201, r.text
    h = await client.head("/v2/big/manifests/edge")
    assert h.headers["Content-Length"] == str(MAX_MANIFEST)


async def test_chunked_oversize_body_is_413(client: httpx.AsyncClient) -> None:
    async def body() -> Any:
        chunk = b" " * (1024 * 1024)
        for _ in range(5):
            yield chunk

    r = await client.put("/v2/big/manifests/streamed", content=body(), headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 413, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]


INVALID_BODIES = {
    "not-json": b"blablabla",
    "truncated": b'{"schemaVersion": 2, "config": {',
    "array": b"[]",
    "string": b'"manifest"',
    "empty": b"",
    "not-utf8": b'{"schemaVersion": 2, "x": "\xff\xfe"}',
    "utf8-bom": b'\xef\xbb\xbf{"schemaVersion": 2}',
    "deep-array": b"[" * 100_000,
    "deep-object": b'{"schemaVersion": 2, "a": ' + b'{"a": ' * 100_000,
}


@pytest.mark.parametrize("body", list(INVALID_BODIES.values()), ids=list(INVALID_BODIES))
async def test_malformed_body_is_400_manifest_invalid(
    client: httpx.AsyncClient, push: Helper, body: bytes
) -> None:
    await push.blob("bad", b"keep the repository alive")
    r = await put(client, "bad", "v1", body)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    await assert_absent(client, "bad", sha256(body), "v1")


@pytest.mark.parametrize("version", [1, 3, "2", None])
async def test_wrong_schema_version_is_400_manifest_invalid(
    client: httpx.AsyncClient, push: Helper, version: Any
) -> None:
    document = await oci_document(push, "bad")
    if version is None:
        del document["schemaVersion"]
    else:
        document["schemaVersion"] = version
    content = encode(document)
    r = await put(client, "bad", "v1", content)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    await assert_absent(client, "bad", sha256(content), "v1")


@pytest.mark.parametrize(
    ("declared", "content_type"),
    [
        (OCI_MANIFEST, DOCKER_MANIFEST),
        (DOCKER_MANIFEST, OCI_MANIFEST),
        (OCI_MANIFEST, OCI_INDEX),
    ],
)
async def test_media_type_differing_from_content_type_is_400(
    client: httpx.AsyncClient, push: Helper, declared: str, content_type: str
) -> None:
    document = await oci_document(push, "bad")
    document["mediaType"] = declared
    content = encode(document)
    r = await put(client, "bad", "v1", content, content_type)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    await assert_absent(client, "bad", sha256(content), "v1")


async def test_structurally_wrong_manifests_are_400(client: httpx.AsyncClient, push: Helper) -> None:
    base = await oci_document(push, "bad")
    broken: list[dict[str, Any]] = [
        {k: v for k, v in base.items() if k != "config"},
        {k: v for k, v in base.items() if k != "layers"},
        {**base, "layers": {"not": "a list"}},
        {**base, "config": {**base["config"], "digest": "not-a-digest"}},
        {**base, "config": {**base["config"], "size": -1}},
        {**base, "config": {**base["config"], "size": "12"}},
        {**base, "layers": [{"mediaType": OCI_LAYER, "size": 1}]},
        {**base, "annotations": {"k": 1}},
        {**base, "subject": {"digest": base["config"]["digest"]}},
    ]
    for document in broken:
        content = encode(document)
        r = await put(client, "bad", "v1", content)
        assert r.status_code == 400, (document, r.text)
        assert error_codes(r) == ["MANIFEST_INVALID"], document
        await assert_absent(client, "bad", sha256(content), "v1")


async def test_docker_manifest_needs_its_media_type(client: httpx.AsyncClient, push: Helper) -> None:
    image = await docker_image(push, "bad", None)
    document = json.loads(image.content)
    del document["mediaType"]
    content = encode(document)
    r = await put(client, "bad", "v1", content, DOCKER_MANIFEST)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]


async def test_unsupported_manifest_media_type_is_refused(client: httpx.AsyncClient, push: Helper) -> None:
    document = await oci_document(push, "bad")
    content = encode(document)
    r = await put(client, "bad", "v1", content, "application/vnd.docker.distribution.manifest.v1+prettyjws")
    assert r.status_code in (400, 415), r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    await assert_absent(client, "bad", sha256(content), "v1")


async def test_missing_blobs_are_all_listed(client: httpx.AsyncClient, push: Helper) -> None:
    await push.blob("miss", b"present layer")
    absent = [descriptor(OCI_LAYER, b"absent-%d" % i) for i in range(3)]
    config = descriptor(OCI_CONFIG, b'{"absent":"config"}')
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": [absent[0], descriptor(OCI_LAYER, b"present layer"), absent[1], absent[2]],
    }
    content = encode(document)
    r = await put(client, "miss", "v1", content)
    assert r.status_code == 400, r.text
    assert set(error_codes(r)) == {"MANIFEST_BLOB_UNKNOWN"}
    listed = json.dumps(r.json())
    for d in (config, *absent):
        assert d["digest"] in listed
    assert sha256(b"present layer") not in listed
    await assert_absent(client, "miss", sha256(content), "v1")


async def test_missing_docker_layer_is_manifest_blob_unknown(client: httpx.AsyncClient, push: Helper) -> None:
    config = b'{"os":"linux"}'
    await push.blob("miss", config)
    layer = descriptor(DOCKER_LAYER, b"not pushed")
    document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": descriptor(DOCKER_CONFIG, config),
        "layers": [layer],
    }
    content = encode(document)
    r = await put(client, "miss", sha256(content), content, DOCKER_MANIFEST)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]
    assert layer["digest"] in r.text
    await assert_absent(client, "miss", sha256(content))


async def test_blob_of_another_repository_is_unknown_here(client: httpx.AsyncClient, push: Helper) -> None:
    document = await oci_document(push, "owner")
    content = encode(document)
    r = await put(client, "thief", "v1", content)
    assert r.status_code == 400, r.text
    assert error_codes(r)[0] == "MANIFEST_BLOB_UNKNOWN"
    assert document["config"]["digest"] in r.text
    await assert_absent(client, "thief", sha256(content), "v1")


@pytest.mark.parametrize("media_type", [OCI_INDEX, DOCKER_LIST])
async def test_index_with_missing_children_lists_them_all(
    client: httpx.AsyncClient, push: Helper, media_type: str
) -> None:
    present = await push.image("kids", None)
    ghosts = [Pushed(sha256(b"ghost-%d" % i), b"ghost-%d" % i, OCI_MANIFEST) for i in range(2)]
    document = index_document([ghosts[0], present, ghosts[1]], media_type)
    content = encode(document)
    r = await put(client, "kids", "all", content, media_type)
    assert r.status_code == 400, r.text
    assert set(error_codes(r)) == {"MANIFEST_BLOB_UNKNOWN"}
    for ghost in ghosts:
        assert ghost.digest in r.text
    assert present.digest not in r.text
    await assert_absent(client, "kids", sha256(content), "all")


async def test_index_child_that_is_only_a_blob_is_unknown(client: httpx.AsyncClient, push: Helper) -> None:
    """A child manifest must be a manifest of the repository, not a blob with the same bytes."""
    image = await oci_document(push, "kids")
    raw = encode(image)
    await push.blob("kids", raw)
    document = index_document([Pushed(sha256(raw), raw, OCI_MANIFEST)])
    r = await put(client, "kids", "v1", encode(document), OCI_INDEX)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]


async def test_put_by_wrong_digest_is_400_digest_invalid(client: httpx.AsyncClient, push: Helper) -> None:
    content = encode(await oci_document(push, "dig"))
    wrong = sha256(b"something else")
    r = await put(client, "dig", wrong, content)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["DIGEST_INVALID"]
    await assert_absent(client, "dig", wrong)
    await assert_absent(client, "dig", sha256(content))


@pytest.mark.parametrize("reference", ["sha256:abc", "sha256:" + "A" * 64, "md5:" + "0" * 32])
async def test_put_by_malformed_digest_is_400(
    client: httpx.AsyncClient, push: Helper, reference: str
) -> None:
    content = encode(await oci_document(push, "dig"))
    r = await put(client, "dig", reference, content)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["DIGEST_INVALID"]
    await assert_absent(client, "dig", sha256(content))


async def test_put_by_sha512_digest(client: httpx.AsyncClient, push: Helper) -> None:
    import hashlib

    content = encode(await oci_document(push, "s512"))
    digest = "sha512:" + hashlib.sha512(content).hexdigest()
    r = await put(client, "s512", digest, content)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    g = await client.get(f"/v2/s512/manifests/{digest}")
    assert g.status_code == 200
    assert g.content == content
    assert g.headers["Docker-Content-Digest"] == digest


async def test_failed_put_with_subject_leaves_no_referrer(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("ref", "v1")
    document = empty_artifact_document(subject=of(image))  # the empty blob was never pushed
    r = await put(client, "ref", "sig", encode(document))
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]
    r = await client.get(f"/v2/ref/referrers/{image.digest}")
    assert r.status_code == 200
    assert r.json()["manifests"] == []


# --- GET / HEAD ----------------------------------------------------------------------------------


async def test_if_none_match_gives_304(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("etag", "v1")
    etag = f'"{image.digest}"'
    for reference in ("v1", image.digest):
        for method in ("GET", "HEAD"):
            r = await client.request(
                method, f"/v2/etag/manifests/{reference}", headers={"If-None-Match": etag}
            )
            assert r.status_code == 304, (method, reference)
            assert r.content == b""
            assert r.headers["ETag"] == etag
            assert r.headers["Docker-Content-Digest"] == image.digest
    r = await client.get("/v2/etag/manifests/v1", headers={"If-None-Match": f'W/"x", {etag}'})
    assert r.status_code == 304
    r = await client.get("/v2/etag/manifests/v1", headers={"If-None-Match": '"sha256:other"'})
    assert r.status_code == 200
    assert r.content == image.content


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_unknown_manifest_is_404_manifest_unknown(
    client: httpx.AsyncClient, push: Helper, method: str
) -> None:
    await push.image("known", "v1")
    for reference in ("nope", sha256(b"nothing")):
        r = await client.request(method, f"/v2/known/manifests/{reference}")
        assert r.status_code == 404, (reference, r.text)
        if method == "GET":
            assert error_codes(r) == ["MANIFEST_UNKNOWN"]
        else:
            assert r.content == b""


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_unknown_repository_is_404_manifest_unknown(client: httpx.AsyncClient, method: str) -> None:
    """As distribution: a manifest read never checks the repository, so the manifest is what is unknown."""
    for reference in ("latest", sha256(b"x")):
        r = await client.request(method, f"/v2/never/pushed/manifests/{reference}")
        assert r.status_code == 404
        if method == "GET":
            assert error_codes(r) == ["MANIFEST_UNKNOWN"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    "reference", [".INVALID_MANIFEST_NAME", "a" * 129, "sha256:abc", "sha256:" + "0" * 40, "md5:" + "0" * 32]
)
async def test_reference_no_manifest_can_have_is_404_on_read(
    client: httpx.AsyncClient, push: Helper, method: str, reference: str
) -> None:
    """The OCI suite reads ``.INVALID_MANIFEST_NAME`` and expects 404, as distribution's router gives."""
    await push.image("known", "v1")
    r = await client.request(method, f"/v2/known/manifests/{reference}")
    assert r.status_code == 404, r.text
    if method == "GET":
        assert error_codes(r) == ["MANIFEST_UNKNOWN"]


async def test_invalid_name_on_read_is_still_name_invalid(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/UPPER/manifests/.bad")
    assert r.status_code == 400
    assert error_codes(r) == ["NAME_INVALID"]


async def test_manifest_of_one_repository_is_unknown_in_another(
    client: httpx.AsyncClient, push: Helper
) -> None:
    image = await push.image("one", "v1")
    await push.image("two", "v1", seed=b"two")
    r = await client.get(f"/v2/two/manifests/{image.digest}")
    assert r.status_code == 404
    assert error_codes(r) == ["MANIFEST_UNKNOWN"]


async def test_accept_header_does_not_change_what_is_served(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("acc", "v1")
    for accept in (OCI_MANIFEST, f"{DOCKER_MANIFEST}, {OCI_MANIFEST};q=0.5", "*/*"):
        r = await client.get("/v2/acc/manifests/v1", headers={"Accept": accept})
        assert r.status_code == 200
        assert r.content == image.content
        assert r.headers["Content-Type"] == OCI_MANIFEST


async def test_nested_repository_names(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("a/b/c/d", "v1")
    await assert_served(client, "a/b/c/d", "v1", image.content, OCI_MANIFEST)
    r = await client.get("/v2/a/b/c/manifests/v1")
    assert r.status_code == 404
