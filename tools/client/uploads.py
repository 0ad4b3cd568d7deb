"""Upload machinery: sessions, openers (content from an offset), and one blob's transfer with its recoveries.

An *opener* is ``opener(offset) -> iterable of bytes``: the blob's content from ``offset`` on, so a broken upload
continues from where the registry says it got to without holding the blob in memory. A :class:`Transfer` drives
the HTTP steps of :class:`UploadSteps` (start, patch, finish, recover; :class:`~registry_client.blobs.Blobs` has
them, and this module does not import it) and decides, after
each failure, whether to continue the same session at the registry's offset or start a new one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import httpx
from registry_client.errors import ClientError, ConnectionFailed, RegistryError
from registry_spec.protocol.errors import InvalidRange
from registry_spec.protocol.ranges import parse_upload_range

__all__ = [
    "GONE",
    "ONCE",
    "READ_SIZE",
    "Opener",
    "Progress",
    "Transfer",
    "UploadSession",
    "UploadSteps",
    "bytes_opener",
    "file_digest",
    "file_opener",
    "range_end",
]

log = logging.getLogger("registry_client")

READ_SIZE = 1 << 20
Opener = Callable[[int], Iterable[bytes]]
Progress = Callable[[int], None]
GONE = ("BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID", None)
SPOILED = ("DIGEST_INVALID", "SIZE_INVALID")
#: Session writes are not repeated by the retry transport: after a failure the session's status says what landed.
ONCE = {"idempotent": False}


@dataclass
class UploadSession:
    """An open upload: its Location (absolute, query kept) and how many bytes the registry holds."""

    name: str
    location: str
    offset: int = 0


def bytes_opener(data: bytes) -> Opener:
    view = memoryview(data)
    return lambda offset: (bytes(view[i : i + READ_SIZE]) for i in range(offset, len(view), READ_SIZE))


def file_opener(path: Path | str) -> Opener:
    def opener(offset: int) -> Iterator[bytes]:
        with open(path, "rb") as f:
            f.seek(offset)
            while chunk := f.read(READ_SIZE):
                yield chunk

    return opener


def file_digest(source: BinaryIO | Path | str, algorithm: str = "sha256") -> tuple[str, int]:
    """(digest, size) of a file."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as f:
            return file_digest(f, algorithm)
    hasher, size = hashlib.new(algorithm), 0
    while chunk := source.read(READ_SIZE):
        hasher.update(chunk)
        size += len(chunk)
    return f"{algorithm}:{hasher.hexdigest()}", size


class ChunkReader:
    """Reads exact lengths from an opener's stream; reopens it at an offset after a failure."""

    def __init__(self, opener: Opener, offset: int) -> None:
        self.opener = opener
        self._open(offset)

    def _open(self, offset: int) -> None:
        self.offset = offset
        self._iter = iter(self.opener(offset))
        self._buffer = b""

    def reopen(self, offset: int) -> None:
        self.close()
        self._open(offset)

    def close(self) -> None:
        close = getattr(self._iter, "close", None)
        if close is not None:
            close()

    def body(self, length: int, progress: Progress | None) -> Iterator[bytes]:
        remaining = length
        while remaining:
            if not self._buffer:
                self._buffer = next(self._iter, b"")
                if not self._buffer:
                    raise ClientError(f"the blob's source ended {remaining} bytes early")
            piece, self._buffer = self._buffer[:remaining], self._buffer[remaining:]
            remaining -= len(piece)
            self.offset += len(piece)
            if progress is not None:
                progress(len(piece))
            yield piece


class UploadSteps(Protocol):
    """What a :class:`Transfer` needs from the blob API: its settings and the HTTP steps of an upload session."""

    monolithic_max: int
    chunk_size: int | None
    resume_attempts: int
    settle: float
    sleep: Callable[[float], None]

    def start(self, name: str) -> UploadSession: ...

    def recover(self, name: str, upload: UploadSession, digest: str) -> UploadSession | None: ...

    def finish(self, upload: UploadSession, digest: str, body: bytes = b"") -> None: ...

    def patch(self, upload: UploadSession, body: Iterable[bytes] | bytes, length: int) -> None: ...


class Transfer:
    """One blob upload and its recoveries; counts progress so a resume can rewind it."""

    def __init__(
        self, blobs: UploadSteps, name: str, opener: Opener, digest: str, size: int, progress: Progress | None
    ) -> None:
        self.blobs, self.name, self.opener = blobs, name, opener
        self.digest, self.size, self.progress = digest, size, progress
        self.reported = 0
        self.reader: ChunkReader | None = None

    def tick(self, n: int) -> None:
        self.reported += n
        if self.progress is not None:
            self.progress(n)

    def run(self, upload: UploadSession) -> None:
        failures = 0
        while True:
            try:
                self._attempt(upload)
                return
            except (ConnectionFailed, httpx.TransportError) as exc:
                failed: Exception = exc
            except RegistryError as exc:
                if not self._recoverable(exc, failures):
                    raise
                failed = exc
            failures += 1
            if failures > self.blobs.resume_attempts:
                raise ConnectionFailed(
                    f"upload of {self.digest} failed {failures} times: {failed}"
                ) from failed
            # Let the registry finish with the broken request before asking what it holds.
            self.blobs.sleep(self.blobs.settle)
            if isinstance(failed, RegistryError) and failed.code in SPOILED:
                recovered: UploadSession | None = self.blobs.start(self.name)
            else:
                recovered = self.blobs.recover(self.name, upload, self.digest)
            if recovered is None:
                self.tick(self.size - self.reported)
                return
            if recovered is not upload:
                log.info("upload of %s: %s; the session is gone, starting over", self.digest, failed)
            else:
                log.info("upload of %s: %s; continuing at byte %d", self.digest, failed, recovered.offset)
            self.tick(recovered.offset - self.reported)
            upload = recovered

    @staticmethod
    def _recoverable(exc: RegistryError, failures: int) -> bool:
        """416: the registry holds another amount than assumed. After an earlier failure, a vanished session
        starts over, and so does one whose content came out wrong (a broken request's bytes landing after the
        registry had reported its size)."""
        return exc.status == 416 or bool(failures and (exc.code in GONE or exc.code in SPOILED))

    def _attempt(self, upload: UploadSession) -> None:
        blobs = self.blobs
        if upload.offset == 0 and self.size <= blobs.monolithic_max and blobs.chunk_size is None:
            data = b"".join(self.opener(0))
            if len(data) != self.size:
                raise ClientError(
                    f"blob {self.digest}: the source gave {len(data)} bytes, expected {self.size}"
                )
            blobs.finish(upload, self.digest, data)
            self.tick(self.size)
            return
        if self.reader is None:
            self.reader = ChunkReader(self.opener, upload.offset)
        elif self.reader.offset != upload.offset:
            self.reader.reopen(upload.offset)
        while upload.offset < self.size:
            step = self.size - upload.offset if blobs.chunk_size is None else blobs.chunk_size
            length = min(step, self.size - upload.offset)
            blobs.patch(upload, self.reader.body(length, self.tick), length)
            if upload.offset != self.reader.offset:
                self.reader.reopen(upload.offset)
        blobs.finish(upload, self.digest)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


def range_end(value: str | None) -> int:
    """The offset an upload's ``Range: 0-<last>`` header reports (``0-0`` is read as empty)."""
    try:
        return parse_upload_range(value)
    except InvalidRange as exc:
        raise ClientError(f"the registry answered an unreadable upload Range {value!r}") from exc
