"""Response bodies read within a size bound, content codings undone here rather than by httpx.

httpx decodes ``Content-Encoding`` with no bound on the output: 3.5 KB of ``gzip, gzip`` inflates to 2 GiB in one
call before a caller's size check sees the first chunk. :func:`read_limited` reads the raw bytes, counts them, and
inflates each coding itself with ``max_length`` so that no stage produces more than the limit (plus one byte, to
tell "too large" from "exactly the limit"). ``gzip``, ``x-gzip``, ``deflate`` and ``identity`` are understood;
any other coding is refused.

Bodies httpx reads whole by itself (every :meth:`Session.request` answer: tag, catalog and referrer pages, error
envelopes; the 401 and redirect answers it reads while authenticating and following) go through
:class:`BoundedBodies`, a transport that undoes the codings the same way, within ``MAX_BODY_SIZE``, so httpx
only ever sees identity. A request marked ``extensions=READ_RAW`` (a blob, a manifest: read with
:func:`raw_chunks` or :func:`read_limited` under their own bounds) gets its successful answer untouched.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

import httpx
from registry_client.errors import ClientError

__all__ = ["ACCEPT_ENCODING", "MAX_BODY_SIZE", "READ_RAW", "BoundedBodies", "raw_chunks", "read_limited"]

#: What a bounded read can undo; sent as ``Accept-Encoding`` with requests whose body is read that way.
ACCEPT_ENCODING = "gzip, deflate"

#: The most a body read whole may hold, as received and once decoded. A tags page of 10 000 tags is under 1 MiB, a
#: catalog page of 1 000 repositories about 100 KiB, an error envelope a few hundred bytes.
MAX_BODY_SIZE = 16 << 20

#: Request extensions of a caller that reads the successful answer's raw body itself.
READ_RAW = {"registry_client.read_raw": True}


class _Inflate:
    """One content coding undone with at most ``limit + 1`` bytes of output in all."""

    def __init__(self, coding: str, limit: int, what: str) -> None:
        self.coding, self.limit, self.what = coding, limit, what
        self.produced = 0
        self.started = False
        wbits = zlib.MAX_WBITS | 16 if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self.inflater = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> bytes:
        try:
            out = self.inflater.decompress(data, self.limit + 1 - self.produced)
        except zlib.error as exc:
            if self.coding != "deflate" or self.started:
                raise ClientError(f"{self.what}: its {self.coding} encoding does not decode ({exc})") from exc
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send it
            self.coding = "raw deflate"
            return self.feed(data)
        self.started = True
        return self._count(out)

    def flush(self) -> bytes:
        return self._count(self.inflater.flush())

    def _count(self, out: bytes) -> bytes:
        self.produced += len(out)
        if self.produced > self.limit:
            raise ClientError(f"{self.what} is larger than {self.limit} bytes once decoded")
        return out


def raw_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body as it came over the wire (``iter_raw``); a response httpx already read (one an in-memory test
    transport built from bytes) has nothing raw left and gives its content."""
    if response.is_stream_consumed:
        yield response.content
        return
    yield from response.iter_raw()


def read_limited(response: httpx.Response, limit: int, what: str) -> bytes:
    """The body of a streamed ``response``, decoded; :class:`ClientError` once raw or decoded it exceeds ``limit``."""
    return b"".join(_decoded(raw_chunks(response), response.headers, limit, what))


def _decoded(chunks: Iterable[bytes], headers: httpx.Headers, limit: int, what: str) -> Iterator[bytes]:
    """``chunks`` with ``headers``' content codings undone; raises once raw or decoded they pass ``limit``."""
    codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",")]
    stages: list[_Inflate] = []
    for coding in reversed([c for c in codings if c and c != "identity"]):
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise ClientError(f"{what}: unsupported Content-Encoding {coding!r}")
        stages.append(_Inflate(coding, limit, what))
    received = 0
    for raw in chunks:
        received += len(raw)
        if received > limit:
            raise ClientError(f"{what} is larger than {limit} bytes")
        yield _through(stages, raw)  # each stage stops past ``limit``: the last one bounds what is decoded
    for index, stage in enumerate(stages):
        yield _through(stages[index + 1 :], stage.flush())


def _through(stages: list[_Inflate], data: bytes) -> bytes:
    for stage in stages:
        data = stage.feed(data)
    return data


class _Bounded(httpx.SyncByteStream):
    """An answer's body as :func:`_decoded` gives it, within ``limit``; closing it closes the body it reads."""

    def __init__(self, inner: httpx.SyncByteStream, headers: httpx.Headers, limit: int, what: str) -> None:
        self.inner, self.headers, self.limit, self.what = inner, headers, limit, what

    def __iter__(self) -> Iterator[bytes]:
        yield from _decoded(self.inner, self.headers, self.limit, self.what)

    def close(self) -> None:
        self.inner.close()


class BoundedBodies(httpx.BaseTransport):
    """Wraps ``inner``: every body httpx will read whole arrives decoded, within ``limit`` bytes."""

    def __init__(self, inner: httpx.BaseTransport, limit: int = MAX_BODY_SIZE) -> None:
        self.inner = inner
        self.limit = limit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        raw = request.extensions.get("registry_client.read_raw") and response.is_success
        if raw or request.method == "HEAD" or not isinstance(response.stream, httpx.SyncByteStream):
            return response
        headers = httpx.Headers(response.headers)
        if "content-encoding" in headers:
            del headers["content-encoding"]
            headers.pop("content-length", None)  # the length of the coded body, not of what is passed on
        what = f"the answer to {request.method} {request.url}"
        stream = _Bounded(response.stream, response.headers, self.limit, what)
        return httpx.Response(
            response.status_code, headers=headers, stream=stream, extensions=response.extensions
        )

    def close(self) -> None:
        self.inner.close()
