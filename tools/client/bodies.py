"""Response bodies read within a size bound, content codings undone here rather than by httpx.

httpx decodes ``Content-Encoding`` with no bound on the output: 3.5 KB of ``gzip, gzip`` inflates to 2 GiB in one
call before a caller's size check sees the first chunk. :func:`read_limited` reads the raw bytes, counts them, and
inflates each coding itself with ``max_length`` so that no stage produces more than the limit (plus one byte, to
tell "too large" from "exactly the limit"). ``gzip``, ``x-gzip``, ``deflate`` and ``identity`` are understood;
any other coding is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx
from registry_client.errors import ClientError

__all__ = ["ACCEPT_ENCODING", "raw_chunks", "read_limited"]

#: What a bounded read can undo; sent as ``Accept-Encoding`` with requests whose body is read that way.
ACCEPT_ENCODING = "gzip, deflate"


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
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
    stages: list[_Inflate] = []
    for coding in reversed([c for c in codings if c and c != "identity"]):
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise ClientError(f"{what}: unsupported Content-Encoding {coding!r}")
        stages.append(_Inflate(coding, limit, what))
    body, received = bytearray(), 0
    for raw in raw_chunks(response):
        received += len(raw)
        if received > limit:
            raise ClientError(f"{what} is larger than {limit} bytes")
        body += _through(stages, raw)
    for index, stage in enumerate(stages):
        body += _through(stages[index + 1 :], stage.flush())
    if len(body) > limit:
        raise ClientError(f"{what} is larger than {limit} bytes")
    return bytes(body)


def _through(stages: list[_Inflate], data: bytes) -> bytes:
    for stage in stages:
        data = stage.feed(data)
    return data
