"""The client library against the in-process registry (both drivers), through httpx.ASGITransport.

Expected error classes come from the descriptor's codes (``registry_spec.errors``), not from strings here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from registry_client import Manifest, RegistryClient, RetryPolicy
from registry_client.errors import error_class
from registry_spec import errors as codes
from registry_spec import mediatypes as mt
from registry_spec.model import ErrorCode
from testkit.asgi_sync import SyncASGITransport

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState

Hook = Callable[[httpx.Request], None]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Wrapped(httpx.BaseTransport):
    """The bridge, with a hook before each request and an optional rewrite of each response."""

    def __init__(self, bridge: SyncASGITransport) -> None:
        self.bridge = bridge
        self.before: Hook | None = None
        self.after: Callable[[httpx.Request, httpx.Response], httpx.Response] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.before is not None:
            self.before(request)
        response = self.bridge.handle_request(request)
        return self.after(request, response) if self.after is not None else response

    def close(self) -> None:
        self.bridge.close()


@pytest.fixture
def wire(state: AppState) -> Wrapped:
    return Wrapped(SyncASGITransport(create_app(state, validate_responses=True)))


@pytest.fixture
def registry(wire: Wrapped) -> Iterator[RegistryClient]:
    with RegistryClient("http://registry.test", transport=wire, sleep=lambda s: None) as client:
        yield client


def raises(code: ErrorCode) -> Any:
    return pytest.raises(error_class(code.value))


def push_image(registry: RegistryClient, name: str, tag: str, seed: bytes = b"") -> Manifest:
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed.hex()}).encode()
    layer = b"layer-" + seed
    document = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {
            "mediaType": mt.OCI_CONFIG,
            "digest": registry.blobs.upload(name, config),
            "size": len(config),
        },
        "layers": [
            {"mediaType": mt.OCI_LAYER, "digest": registry.blobs.upload(name, layer), "size": len(layer)}
        ],
    }
    manifest = Manifest.from_document(document)
    registry.manifests.put(name, tag, manifest)
    return manifest


@pytest.mark.parametrize(
    ("chunk_size", "monolithic_max"),
    [(None, 1 << 20), (None, 0), (1000, 1 << 20)],
    ids=["put", "patch", "chunks"],
)
def test_blob_round_trip(registry: RegistryClient, chunk_size: int | None, monolithic_max: int) -> None:
    registry.blobs.chunk_size, registry.blobs.monolithic_max = chunk_size, monolithic_max
    data = bytes(range(256)) * 20
    digest = registry.blobs.upload("c/blobs", data)
    assert digest == sha256(data)
    assert registry.blobs.exists("c/blobs", digest) == len(data)
    assert registry.blobs.get("c/blobs", digest) == data
    registry.blobs.delete("c/blobs", digest)
    assert registry.blobs.exists("c/blobs", digest) is None
    with raises(codes.BLOB_UNKNOWN):
        registry.blobs.get("c/blobs", digest)


def test_upload_resumes_after_a_patch_is_lost(registry: RegistryClient, wire: Wrapped) -> None:
    registry.blobs.chunk_size = 1000
    patches: list[str] = []

    def drop_second_patch(request: httpx.Request) -> None:
        if request.method == "PATCH":
            patches.append(request.headers["content-range"])
            if len(patches) == 2:
                raise httpx.WriteError("connection reset by peer")

    wire.before = drop_second_patch
    data = b"x" * 2500 + b"y" * 2500
    assert registry.blobs.upload("c/resume", data) == sha256(data)
    assert patches == ["0-999", "1000-1999", "1000-1999", "2000-2999", "3000-3999", "4000-4999"]
    assert registry.blobs.get("c/resume", sha256(data)) == data


def test_download_resumes_with_range(registry: RegistryClient, wire: Wrapped) -> None:
    data = bytes(range(256)) * 100
    digest = registry.blobs.upload("c/download", data)
    ranges: list[str | None] = []

    def cut_first_get(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.method != "GET" or "/blobs/sha256:" not in request.url.path:
            return response
        ranges.append(request.headers.get("range"))
        if len(ranges) > 1:
            return response
        body = response.read()

        def broken() -> Iterator[bytes]:
            yield body[:10_000]
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

        return httpx.Response(response.status_code, headers=response.headers, stream=_Stream(broken()))

    wire.after = cut_first_get
    assert registry.blobs.get("c/download", digest) == data
    assert ranges == [None, "bytes=10000-"]


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks


def test_503_is_retried(registry: RegistryClient, wire: Wrapped) -> None:
    answered: list[int] = []

    def unavailable_once(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if not answered:
            answered.append(503)
            return httpx.Response(503, headers={"Retry-After": "1"})
        answered.append(response.status_code)
        return response

    wire.after = unavailable_once
    assert registry.ping() is not None
    assert answered == [503, 200]


def test_mount_and_fallback(registry: RegistryClient) -> None:
    digest = registry.blobs.upload("c/source", b"shared layer")
    assert registry.blobs.mount("c/target", digest, "c/source") is None
    assert registry.blobs.exists("c/target", digest) == len(b"shared layer")

    missing = b"only here"
    session = registry.blobs.mount("c/target", sha256(missing), "c/source")
    assert session is not None and session.offset == 0
    registry.blobs.upload("c/target", missing, upload=session)
    assert registry.blobs.get("c/target", sha256(missing)) == missing


def test_manifest_put_get_resolve_delete(registry: RegistryClient) -> None:
    manifest = push_image(registry, "c/images", "v1")
    fetched = registry.manifests.get("c/images", "v1")
    assert (fetched.content, fetched.media_type, fetched.digest) == (
        manifest.content,
        mt.OCI_MANIFEST,
        manifest.digest,
    )
    assert registry.manifests.get("c/images", manifest.digest).content == manifest.content
    assert registry.manifests.resolve("c/images", "v1") == manifest.descriptor
    assert registry.manifests.exists("c/images", "v1")
    registry.manifests.delete("c/images", manifest.digest)
    assert not registry.manifests.exists("c/images", "v1")
    with raises(codes.MANIFEST_UNKNOWN):
        registry.manifests.get("c/images", "v1")


def test_typed_errors_carry_the_envelope(registry: RegistryClient) -> None:
    layer = {"mediaType": mt.OCI_LAYER, "digest": sha256(b"never pushed"), "size": 12}
    config = registry.blobs.upload("c/errors", b"{}")
    document = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": config, "size": 2},
        "layers": [layer],
    }
    with raises(codes.MANIFEST_BLOB_UNKNOWN) as caught:
        registry.manifests.put("c/errors", "v1", Manifest.from_document(document))
    assert caught.value.status == codes.MANIFEST_BLOB_UNKNOWN.status
    assert caught.value.code == "MANIFEST_BLOB_UNKNOWN" and caught.value.errors
    with raises(codes.NAME_UNKNOWN):
        registry.tags.list("c/never-pushed")
    with raises(codes.MANIFEST_UNKNOWN):
        registry.manifests.resolve("c/errors", "nope")


def test_tags_and_catalog_paginate(registry: RegistryClient) -> None:
    tags = [f"v{i}" for i in range(5)]
    for tag in tags:
        push_image(registry, "c/paged", tag, seed=tag.encode())
    push_image(registry, "c/other", "latest")
    assert registry.tags.list("c/paged", page_size=2) == tags
    assert list(registry.tags.iter("c/paged", page_size=2, last="v2")) == ["v3", "v4"]
    assert registry.catalog.list(page_size=1) == ["c/other", "c/paged"]


def test_referrers(registry: RegistryClient) -> None:
    subject = push_image(registry, "c/refs", "v1")
    empty = registry.blobs.upload("c/refs", b"{}")
    for artifact_type in ("application/x-signature", "application/x-sbom"):
        document = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": mt.OCI_EMPTY, "digest": empty, "size": 2},
            "layers": [{"mediaType": mt.OCI_EMPTY, "digest": empty, "size": 2}],
            "subject": subject.descriptor.to_json(),
        }
        artifact = Manifest.from_document(document)
        registry.manifests.put("c/refs", artifact.digest, artifact)
    found = registry.referrers.list("c/refs", subject.digest)
    assert sorted(d.artifact_type or "" for d in found) == ["application/x-sbom", "application/x-signature"]
    (sbom,) = registry.referrers.list("c/refs", subject.digest, "application/x-sbom")
    assert sbom.artifact_type == "application/x-sbom"


def test_retry_policy_can_be_turned_off() -> None:
    calls: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503)

    with (
        RegistryClient(
            "http://registry.test", transport=httpx.MockTransport(handle), retry=RetryPolicy(attempts=1)
        ) as c,
        raises(codes.UNAVAILABLE),
    ):
        c.ping()
    assert calls == [1]
