"""Blobs: existence, streamed download that resumes with Range, upload (monolithic or chunked) that resumes
after a dropped connection, cross-repository mount, delete.

Uploads take bytes or an *opener* (:mod:`.uploads`); a broken one continues from where the registry says it got to
(``GET`` on the session, ``Range: 0-<last>``). When the session itself is gone (distribution refuses to resume a
session whose signed state it has moved past), a fresh session starts from zero; a blob that turned out to have
landed after all is not sent again. Another registry's blob makes an opener too (:meth:`Blobs.opener`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import httpx
from registry_client.bodies import READ_RAW, raw_chunks
from registry_client.errors import ClientError, ConnectionFailed, DigestMismatch, RegistryError
from registry_client.references import check_digest
from registry_client.session import Session, with_query
from registry_client.uploads import (
    GONE,
    ONCE,
    Opener,
    Progress,
    Transfer,
    UploadSession,
    bytes_opener,
    file_digest,
    file_opener,
    range_end,
)
from registry_spec import mediatypes as mt
from registry_spec import urls
from registry_spec.protocol.errors import InvalidRange
from registry_spec.protocol.ranges import parse_content_range

__all__ = ["Blobs", "Opener", "Progress", "UploadSession", "bytes_opener", "file_digest", "file_opener"]

log = logging.getLogger("registry_client")


class Blobs:
    """The blob API of one registry."""

    def __init__(
        self,
        session: Session,
        *,
        monolithic_max: int = 16 << 20,
        chunk_size: int | None = None,
        resume_attempts: int = 5,
        settle: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self.monolithic_max = monolithic_max
        self.chunk_size = chunk_size
        self.resume_attempts = resume_attempts
        self.settle = settle
        self.sleep = sleep

    # --- reading -------------------------------------------------------------------------------------

    def exists(self, name: str, digest: str) -> int | None:
        """The blob's size if the repository has it, else None."""
        r = self.session.request(
            "HEAD", urls.blob(name, check_digest(digest)), expect=(200, 404), follow_redirects=True
        )
        if r.status_code == 404:
            return None
        length = r.headers.get("content-length")
        return int(length) if length and length.isdigit() else -1

    def get(self, name: str, digest: str, size: int | None = None) -> bytes:
        return b"".join(self.stream(name, digest, size=size))

    def download(self, name: str, digest: str, out: BinaryIO, progress: Progress | None = None) -> int:
        """Write the blob to ``out``; returns its size."""
        size = 0
        for chunk in self.stream(name, digest, progress=progress):
            out.write(chunk)
            size += len(chunk)
        return size

    def opener(self, name: str, digest: str, size: int | None = None) -> Opener:
        """An opener over this registry's blob (verified when read from the start, bounded by ``size``)."""
        return lambda offset: self.stream(name, digest, offset=offset, verify=offset == 0, size=size)

    def stream(
        self,
        name: str,
        digest: str,
        *,
        offset: int = 0,
        verify: bool = True,
        size: int | None = None,
        progress: Progress | None = None,
    ) -> Iterator[bytes]:
        """The blob's bytes from ``offset``; a connection dropped mid-body continues with ``Range``.

        With ``verify`` (and ``offset`` 0) the content is hashed and :class:`DigestMismatch` raised at the end.
        With ``size`` (a descriptor's), :class:`ClientError` stops the download as soon as a chunk would pass it,
        and when the body ends short of it.
        """
        algorithm = check_digest(digest).partition(":")[0]
        hasher = hashlib.new(algorithm) if verify and offset == 0 else None
        position, failures = offset, 0
        while True:
            try:
                position = yield from self._stream_once(name, digest, position, hasher, progress, size)
                break
            except _Moved as moved:
                position = moved.position
                failures += 1
                if failures > self.resume_attempts:
                    raise ConnectionFailed(
                        f"blob {digest}: connection lost {failures} times"
                    ) from moved.cause
                log.info("blob %s: connection lost at byte %d (%s); resuming", digest, position, moved.cause)
        if size is not None and position < size:
            raise ClientError(f"blob {digest}: the registry sent {position} of its {size} bytes")
        if hasher is not None and f"{algorithm}:{hasher.hexdigest()}" != digest:
            raise DigestMismatch(digest, f"{algorithm}:{hasher.hexdigest()}", "blob")

    def _stream_once(
        self,
        name: str,
        digest: str,
        position: int,
        hasher: hashlib._Hash | None,
        progress: Progress | None,
        size: int | None,
    ) -> Generator[bytes, None, int]:
        """One GET from ``position``; returns where the body ended, raises :class:`_Moved` where it broke."""
        # identity: a layer must arrive as stored. Its digest is over the stored bytes, so they are taken as
        # received (iter_raw) whatever a Content-Encoding says: never inflated here (a gzip bomb), and the digest
        # decides (an object store that labels a .tar.gz layer "Content-Encoding: gzip" serves the blob itself).
        headers = {"Accept-Encoding": "identity"} | ({"Range": f"bytes={position}-"} if position else {})
        expect = (200, 206, 416) if position else (200,)
        with self.session.stream(
            "GET",
            urls.blob(name, digest),
            expect=expect,
            not_found="BLOB_UNKNOWN",
            headers=headers,
            follow_redirects=True,
            extensions=READ_RAW,
        ) as response:
            if response.status_code == 416:
                return position  # nothing after ``position``: the caller already has it all
            skip = position if response.status_code == 200 else 0
            if response.status_code == 206:
                _check_content_range(response, position)
            try:
                for chunk in raw_chunks(response):
                    if skip:
                        dropped = min(skip, len(chunk))
                        chunk, skip = chunk[dropped:], skip - dropped
                        if not chunk:
                            continue
                    if size is not None and position + len(chunk) > size:
                        raise ClientError(f"blob {digest}: the registry sends more than its {size} bytes")
                    if hasher is not None:
                        hasher.update(chunk)
                    position += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
                    yield chunk
            except httpx.TransportError as exc:
                raise _Moved(position, exc) from exc
        return position

    # --- writing -------------------------------------------------------------------------------------

    def start(self, name: str) -> UploadSession:
        r = self.session.request(
            "POST", urls.upload_start(name), expect=(202,), headers={"Content-Length": "0"}
        )
        return UploadSession(name, self.session.url(r.headers["Location"]))

    def status(self, upload: UploadSession) -> int:
        """Ask the registry how much of ``upload`` it holds; updates and returns ``upload.offset``."""
        r = self.session.request("GET", upload.location, expect=(204,), not_found="BLOB_UPLOAD_UNKNOWN")
        upload.location = self.session.url(r.headers.get("Location") or upload.location)
        upload.offset = range_end(r.headers.get("Range"))
        return upload.offset

    def cancel(self, upload: UploadSession) -> None:
        self.session.request("DELETE", upload.location, expect=(204, 404))

    def mount(self, name: str, digest: str, source: str) -> UploadSession | None:
        """Mount ``digest`` from repository ``source``: None when mounted, else the session the registry opened
        instead (upload into it with ``upload(..., upload=session)``)."""
        path = with_query(urls.upload_start(name), mount=check_digest(digest), **{"from": source})
        r = self.session.request("POST", path, expect=(201, 202), headers={"Content-Length": "0"})
        if r.status_code == 201:
            return None
        return UploadSession(name, self.session.url(r.headers["Location"]))

    def upload(
        self,
        name: str,
        source: bytes | Opener,
        digest: str | None = None,
        size: int | None = None,
        *,
        progress: Progress | None = None,
        upload: UploadSession | None = None,
    ) -> str:
        """Upload a blob; returns its digest. ``source`` is bytes, or an opener with ``digest`` and ``size``.

        Blobs up to ``monolithic_max`` go in one PUT (unless ``chunk_size`` is set); bigger ones in PATCHes of
        ``chunk_size`` bytes (one PATCH when None) and a closing PUT.
        """
        if isinstance(source, bytes):
            digest = digest or f"sha256:{hashlib.sha256(source).hexdigest()}"
            size, opener = len(source), bytes_opener(source)
        elif digest is None or size is None:
            raise ValueError("an opener needs its digest and size")
        else:
            opener = source
        transfer = Transfer(self, name, opener, check_digest(digest), size, progress)
        try:
            transfer.run(upload or self.start(name))
        finally:
            transfer.close()
        return digest

    def upload_file(self, name: str, path: Path | str, progress: Progress | None = None) -> str:
        digest, size = file_digest(path)
        return self.upload(name, file_opener(path), digest, size, progress=progress)

    def delete(self, name: str, digest: str) -> None:
        self.session.request(
            "DELETE", urls.blob(name, check_digest(digest)), expect=(202,), not_found="BLOB_UNKNOWN"
        )

    def recover(self, name: str, upload: UploadSession, digest: str) -> UploadSession | None:
        """Where to continue after a failure: the same session at the registry's offset, a new session, or None
        when the blob arrived after all."""
        if self.exists(name, digest) is not None:
            return None
        try:
            self.status(upload)
        except RegistryError as exc:
            if exc.code not in GONE and exc.status not in (400, 404):
                raise
            return self.start(name)
        return upload

    def finish(self, upload: UploadSession, digest: str, body: bytes = b"") -> None:
        """Close ``upload`` with its last bytes (PUT ``?digest=``, the Location's own query kept)."""
        headers = {"Content-Type": mt.OCTET_STREAM, "Content-Length": str(len(body))}
        r = self.session.request(
            "PUT",
            with_query(upload.location, digest=digest),
            content=body,
            headers=headers,
            expect=(201,),
            extensions=ONCE,
        )
        served = r.headers.get("Docker-Content-Digest")
        if served and served != digest:
            raise DigestMismatch(digest, served, "uploaded blob")

    def patch(self, upload: UploadSession, body: Iterable[bytes] | bytes, length: int) -> None:
        """Send one chunk of ``length`` bytes at ``upload.offset``; updates the session from the answer."""
        end = upload.offset + length
        headers = {
            "Content-Type": mt.OCTET_STREAM,
            "Content-Range": f"{upload.offset}-{end - 1}",
            "Content-Length": str(length),
        }
        r = self.session.request(
            "PATCH", upload.location, content=body, headers=headers, expect=(202,), extensions=ONCE
        )
        upload.location = self.session.url(r.headers.get("Location") or upload.location)
        held = range_end(r.headers["Range"]) if r.headers.get("Range") else end
        upload.offset = min(held, end)  # distribution appends and may report more; never skip content


class _Moved(Exception):
    """A download broke at ``position``."""

    def __init__(self, position: int, cause: Exception) -> None:
        super().__init__(str(cause))
        self.position = position
        self.cause = cause


def _check_content_range(response: httpx.Response, position: int) -> None:
    value = response.headers.get("content-range", "")
    try:
        bounds = parse_content_range(value)
    except InvalidRange:
        bounds = None
    if bounds is None or bounds[0] != position:
        raise ClientError(f"asked for bytes from {position}, the registry sent Content-Range {value!r}")
