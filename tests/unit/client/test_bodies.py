"""Bounded response bodies: manifests inflate within MAX_MANIFEST_SIZE, listings, error and 401 bodies within
MAX_BODY_SIZE, blobs are taken as received (a gzip bomb in Content-Encoding costs neither memory nor time)."""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import httpx
import pytest
from registry_client import ClientError, DigestMismatch, RegistryClient
from registry_client.bodies import MAX_BODY_SIZE
from registry_client.manifests import MAX_MANIFEST_SIZE
from registry_client.transport import RetryPolicy

MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": []}'


@functools.cache
def bomb() -> bytes:
    """``gzip, gzip``: a few KB that inflate to 64 MiB of zeros."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [inner.compress(zeros) for _ in range(64)]
    return gzip.compress(b"".join(parts) + inner.flush(), 9)


class Wire(httpx.SyncByteStream):
    """A body as a network transport hands it over: not read yet, so content codings are still applied."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        for i in range(0, len(self.data), 4096):
            yield self.data[i : i + 4096]


def client(handler: Callable[[httpx.Request], httpx.Response]) -> RegistryClient:
    return RegistryClient(
        "http://r.test", transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1)
    )


def peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    with contextlib.suppress(ClientError):
        action()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


def test_a_gzip_bomb_manifest_stops_at_the_size_limit() -> None:
    body = bomb()
    assert len(body) < 16 << 10

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Wire(body), headers={"Content-Encoding": "gzip, gzip"})

    with client(handle) as registry:
        with pytest.raises(ClientError, match="larger than"):
            registry.manifests.get("a", "v1")
        assert peak(lambda: registry.manifests.get("a", "v1")) < 4 * MAX_MANIFEST_SIZE


@pytest.mark.parametrize("coding", ["gzip", "deflate", "gzip, identity", ""])
def test_an_encoded_manifest_is_decoded_and_verified(coding: str) -> None:
    encode = {"gzip": gzip.compress, "deflate": zlib.compress}.get(coding.partition(",")[0], lambda b: b)
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["accept-encoding"])
        digest = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
        headers = {"Content-Encoding": coding, "Docker-Content-Digest": digest}
        return httpx.Response(200, stream=Wire(encode(MANIFEST)), headers=headers)

    with client(handle) as registry:
        assert registry.manifests.get("a", "v1").content == MANIFEST
    assert seen == ["gzip, deflate"]


def test_an_unknown_manifest_coding_is_refused() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Wire(MANIFEST), headers={"Content-Encoding": "br"})

    with client(handle) as registry, pytest.raises(ClientError, match="unsupported Content-Encoding 'br'"):
        registry.manifests.get("a", "v1")


def test_a_blob_is_taken_as_received_whatever_its_content_encoding() -> None:
    layer = gzip.compress(
        b"a tar stream" * 100
    )  # an object store labelling a .tar.gz "Content-Encoding: gzip"
    digest = "sha256:" + hashlib.sha256(layer).hexdigest()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Wire(layer), headers={"Content-Encoding": "gzip"})

    with client(handle) as registry:
        assert registry.blobs.get("a", digest) == layer


def test_a_gzip_bomb_blob_is_not_inflated() -> None:
    body = bomb()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Wire(body), headers={"Content-Encoding": "gzip, gzip"})

    with client(handle) as registry:
        with pytest.raises(DigestMismatch):
            registry.blobs.get("a", "sha256:" + "0" * 64)
        assert peak(lambda: registry.blobs.get("a", "sha256:" + "0" * 64)) < 1 << 20


# --- bodies httpx reads whole: listings, error envelopes, the 401 read while authenticating ----------------------


def test_a_gzip_bomb_tags_page_stops_at_the_body_limit() -> None:
    body = bomb()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Wire(body), headers={"Content-Encoding": "gzip, gzip"})

    with client(handle) as registry:
        with pytest.raises(ClientError, match=f"tags/list is larger than {MAX_BODY_SIZE} bytes"):
            registry.tags.list("a")
        assert peak(lambda: registry.tags.list("a")) < 4 * MAX_BODY_SIZE


def test_a_gzip_bomb_error_body_stops_at_the_body_limit() -> None:
    body = bomb()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, stream=Wire(body), headers={"Content-Encoding": "gzip, gzip"})

    with client(handle) as registry:
        with pytest.raises(ClientError, match="larger than"):
            registry.catalog.list()
        assert peak(lambda: registry.catalog.list()) < 4 * MAX_BODY_SIZE


def test_a_gzip_bomb_401_body_stops_at_the_body_limit() -> None:
    body = bomb()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            return httpx.Response(200, json={"token": "t"})
        headers = {
            "Content-Encoding": "gzip, gzip",
            "WWW-Authenticate": 'Bearer realm="http://auth.test/token"',
        }
        return httpx.Response(401, stream=Wire(body), headers=headers)

    with client(handle) as registry:
        with pytest.raises(ClientError, match="larger than"):
            registry.tags.list("a")
        assert peak(lambda: registry.tags.list("a")) < 4 * MAX_BODY_SIZE


@pytest.mark.parametrize("coding", ["gzip", "deflate", "x-gzip", "gzip, identity", ""])
def test_an_encoded_tags_page_is_decoded(coding: str) -> None:
    """What registries behind a CDN or nginx ``gzip on`` send: pages still read, Links still followed."""
    encode = {"gzip": gzip.compress, "x-gzip": gzip.compress, "deflate": zlib.compress}.get(
        coding.partition(",")[0], lambda b: b
    )
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["accept-encoding"])
        last = request.url.params.get("last")
        tags = ["v2"] if last else ["v0", "v1"]
        headers = {"Content-Encoding": coding, "Content-Type": "application/json"}
        if not last:
            headers["Link"] = '</v2/a/tags/list?last=v1>; rel="next"'
        page = json.dumps({"name": "a", "tags": tags}).encode()
        return httpx.Response(200, stream=Wire(encode(page)), headers=headers)

    with client(handle) as registry:
        assert registry.tags.list("a") == ["v0", "v1", "v2"]
    assert seen == ["gzip, deflate", "gzip, deflate"]


def test_a_large_gzip_tags_page_within_the_limit_is_read() -> None:
    tags = [f"release-{i:06}" for i in range(10_000)]
    page = gzip.compress(json.dumps({"name": "a", "tags": tags}).encode())

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Wire(page), headers={"Content-Encoding": "gzip"})

    with client(handle) as registry:
        assert registry.tags.list("a") == tags
