"""Blob transfers against a scripted registry: downloads resume with Range, uploads resume from the session's
Range (or start over when the session is gone), the Location's query survives, digests are verified."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from registry_client import ClientError, DigestMismatch, RegistryClient
from registry_client.transport import RetryPolicy

DATA = bytes(range(256)) * 64  # 16 KiB
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()


class Breaking(httpx.SyncByteStream):
    """Yields ``data`` and then, if ``cut`` is set, raises as a dropped connection would."""

    def __init__(self, data: bytes, cut: bool) -> None:
        self.data, self.cut = data, cut

    def __iter__(self) -> Iterator[bytes]:
        for i in range(0, len(self.data), 1000):
            yield self.data[i : i + 1000]
        if self.cut:
            raise httpx.ReadError("connection reset by peer")


def client(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> RegistryClient:
    return RegistryClient(
        "http://r.test",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=1),
        **kwargs,
    )


@pytest.mark.parametrize("honours_range", [True, False])
def test_download_resumes_after_a_dropped_connection(honours_range: bool) -> None:
    ranges: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        ranges.append(request.headers.get("range"))
        if len(ranges) == 1:
            return httpx.Response(200, stream=Breaking(DATA[:5000], cut=True))
        start = int(re.match(r"bytes=(\d+)-", request.headers["range"])[1])  # type: ignore[index]
        if not honours_range:
            return httpx.Response(200, stream=Breaking(DATA, cut=False))
        headers = {"Content-Range": f"bytes {start}-{len(DATA) - 1}/{len(DATA)}"}
        return httpx.Response(206, headers=headers, stream=Breaking(DATA[start:], cut=False))

    progress: list[int] = []
    with client(handle) as registry:
        assert b"".join(registry.blobs.stream("a", DIGEST, progress=progress.append)) == DATA
    assert ranges == [None, "bytes=5000-"]
    assert sum(progress) == len(DATA)


def test_download_verifies_the_digest() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Breaking(DATA[:-1] + b"!", cut=False))

    with client(handle) as registry, pytest.raises(DigestMismatch):
        registry.blobs.get("a", DIGEST)


class FakeUploads:
    """Upload sessions with distribution's signed-state query; a PATCH is cut once the session holds
    ``cut_after`` bytes (what arrived before the cut is kept, as a registry streaming to storage does)."""

    def __init__(self, cut_after: int | None = None, forget_session: bool = False) -> None:
        self.sessions: dict[str, bytearray] = {}
        self.blobs: dict[str, bytes] = {}
        self.cut_after = cut_after
        self.forget_session = forget_session
        self.log: list[str] = []

    def location(self, uuid: str) -> str:
        return f"/v2/a/blobs/uploads/{uuid}?_state=signed%3D{len(self.sessions[uuid])}"

    def session_headers(self, uuid: str) -> dict[str, str]:
        size = len(self.sessions[uuid])
        return {"Location": self.location(uuid), "Range": f"0-{max(size - 1, 0)}"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.log.append(f"{method} {request.url.raw_path.decode()}")
        if method == "HEAD":
            digest = path.rsplit("/", 1)[1]
            return httpx.Response(200 if digest in self.blobs else 404)
        if method == "POST":
            uuid = f"u{len(self.sessions)}"
            self.sessions[uuid] = bytearray()
            return httpx.Response(202, headers=self.session_headers(uuid))
        uuid = path.rsplit("/", 1)[1]
        if uuid not in self.sessions:
            return httpx.Response(404, json={"errors": [{"code": "BLOB_UPLOAD_UNKNOWN", "message": "gone"}]})
        if method == "GET":
            return httpx.Response(204, headers=self.session_headers(uuid))
        if method == "PATCH":
            return self.patch(request, uuid)
        assert method == "PUT"
        assert request.url.params["_state"].startswith("signed="), "the Location's query was dropped"
        self.sessions[uuid] += request.read()
        data = bytes(self.sessions.pop(uuid))
        digest = request.url.params["digest"]
        assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return httpx.Response(201, headers={"Docker-Content-Digest": digest})

    def patch(self, request: httpx.Request, uuid: str) -> httpx.Response:
        start = int(request.headers["content-range"].split("-")[0])
        assert start == len(self.sessions[uuid]), "chunk out of order"
        for chunk in request.stream:  # type: ignore[union-attr]
            held = len(self.sessions[uuid])
            if self.cut_after is not None and held + len(chunk) > self.cut_after:
                self.sessions[uuid] += chunk[: self.cut_after - held]
                self.cut_after = None
                if self.forget_session:
                    del self.sessions[uuid]
                raise httpx.WriteError("connection reset by peer")
            self.sessions[uuid] += chunk
        return httpx.Response(202, headers=self.session_headers(uuid))


def test_chunked_upload_continues_where_the_registry_says() -> None:
    fake = FakeUploads(cut_after=6000)
    progress: list[int] = []
    with client(fake, chunk_size=4096) as registry:
        assert registry.blobs.upload("a", DATA, progress=progress.append) == DIGEST
    assert fake.blobs[DIGEST] == DATA
    steps = [line.split("?")[0] for line in fake.log if not line.startswith("HEAD")]
    assert steps == [
        "POST /v2/a/blobs/uploads/",
        "PATCH /v2/a/blobs/uploads/u0",  # 0-4095
        "PATCH /v2/a/blobs/uploads/u0",  # 4096-8191, cut when the session holds 6000 bytes
        "GET /v2/a/blobs/uploads/u0",  # Range: 0-5999
        "PATCH /v2/a/blobs/uploads/u0",  # 6000-10095
        "PATCH /v2/a/blobs/uploads/u0",  # 10096-14191
        "PATCH /v2/a/blobs/uploads/u0",  # 14192-16383
        "PUT /v2/a/blobs/uploads/u0",
    ]
    assert sum(progress) == len(DATA)


def test_a_single_patch_upload_resumes_too() -> None:
    fake = FakeUploads(cut_after=10_000)
    with client(fake, monolithic_max=1024) as registry:
        assert registry.blobs.upload("a", DATA) == DIGEST
    assert fake.blobs[DIGEST] == DATA
    assert len(fake.sessions) == 0


def test_a_vanished_session_starts_over() -> None:
    fake = FakeUploads(cut_after=3000, forget_session=True)
    with client(fake, monolithic_max=1024) as registry:
        assert registry.blobs.upload("a", DATA) == DIGEST
    assert [line.split("?")[0] for line in fake.log if line.startswith("POST")] == [
        "POST /v2/a/blobs/uploads/"
    ] * 2
    assert fake.blobs[DIGEST] == DATA


def test_monolithic_upload_keeps_the_location_query() -> None:
    fake = FakeUploads()
    with client(fake) as registry:
        registry.blobs.upload("a", DATA)
    assert fake.log[-1] == f"PUT /v2/a/blobs/uploads/u0?_state=signed%3D0&digest={DIGEST.replace(':', '%3A')}"


@pytest.mark.parametrize(("size", "error"), [(len(DATA) - 1, "sends more than"), (len(DATA) + 1, "sent 16384 of")])
def test_a_blob_is_held_to_the_size_its_descriptor_gives(size: int, error: str) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Breaking(DATA, cut=False))

    with client(handle) as registry:
        assert registry.blobs.get("a", DIGEST, size=len(DATA)) == DATA
        with pytest.raises(ClientError, match=error):
            registry.blobs.get("a", DIGEST, size=size)
