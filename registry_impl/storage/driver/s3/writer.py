"""The S3 file writer: bytes sent as parts of one multipart upload that stays open across requests.

Bytes are buffered and sent as ``chunksize`` parts while they arrive. ``close`` keeps the file resumable
without publishing it (see :mod:`.pending`): what is left in the buffer goes out as one more part when it is
at least 5 MiB, else it becomes the tail object, which also records the upload's state in its metadata. So
a chunked upload costs each request one part (or one short tail) and one small PutObject, whichever process
or replica serves it; the next writer downloads at most the tail (under 5 MiB). ``commit`` — or whoever first
reads or moves the file — completes the upload; ``cancel`` aborts it and removes the object.

A file that is a plain object (written in one piece, or already completed) is resumed as distribution does:
under 5 MiB it is downloaded into the buffer, larger it becomes the first parts of a new upload by
server-side UploadPartCopy. Tails and plain objects are read pinned to the version that was measured
(``IfMatch`` / ``CopySourceIfMatch``).

A resumed writer publishes only over the version it resumed (a conditional PutObject, ``If-Match``): of two
writers resumed from one state, the second to close fails instead of overwriting the first's record — when
their tails differ, as an ETag is the content's MD5; otherwise completion's check of the parts catches it.

After a failed request the writer is broken: ``close`` leaves the file as the last successful ``close`` left
it (parts sent since are unreferenced and overwritten or dropped later; an upload this writer started is
aborted), so a later ``writer(append=True)`` sees exactly the last published bytes.
"""

from __future__ import annotations

from typing import Any

from registry_impl.storage.driver.base import FileWriter, StorageDriverError

from .bucket import Bucket
from .multipart import copy_parts, part_ranges
from .pending import Pending, complete, version_of
from .settings import MAX_PARTS, MIN_PART_SIZE

__all__ = ["S3Writer"]


class S3Writer(FileWriter):
    """Writes ``path`` anew (``head`` None) or appends to the file that ``head`` (its HeadObject) describes."""

    def __init__(
        self, bucket: Bucket, driver_name: str, path: str, head: dict[str, Any] | None = None
    ) -> None:
        progress = Pending.of_head(head) if head is not None else None
        tail = int(head["ContentLength"]) if head is not None else 0
        super().__init__(driver_name, path, (progress.size if progress else 0) + tail)
        self._bucket = bucket
        self._key = bucket.key(path)
        self._chunk = bucket.settings.chunksize
        self._progress = progress  # the parts sent so far (this writer's included); None: no upload yet
        self._tail = tail  # bytes of the object at the key not yet in the buffer or the upload
        self._etag = head.get("ETag") if head is not None else None
        self._own = False  # the upload was started by this writer (a failure aborts it)
        self._buffer = bytearray()
        self._dirty = head is None  # a new (truncating) writer publishes even when empty
        self.version = version_of(self._etag, progress) if head is not None else None
        self._broken = False

    # ---- FileWriter hooks ----

    def _write(self, data: bytes) -> None:
        if self._broken:
            raise StorageDriverError(self.path, "writer failed earlier; close it and resume")
        if not data:
            return
        try:
            if self._tail:
                self._take_over()
            self._buffer += data
            self._dirty = True
            while len(self._buffer) >= self._chunk:
                with memoryview(self._buffer) as view:  # one copy of the part, not two
                    part = bytes(view[: self._chunk])
                self._send(part)
                del self._buffer[: self._chunk]
        except BaseException:
            self._broken = True
            raise

    def _close(self) -> None:
        if self._state == "cancelled":  # the base class closes before cancelling: keep nothing
            self._buffer = bytearray()
            return
        try:
            if self._broken:
                self._abort_own()
            elif self._dirty:
                if len(self._buffer) >= MIN_PART_SIZE:
                    self._send(bytes(self._buffer))
                    self._buffer = bytearray()
                metadata = self._progress.metadata() if self._progress is not None else None
                etag = self._bucket.put(self._key, bytes(self._buffer), metadata, if_match=self._etag)
                self.version = version_of(etag, self._progress)
        except BaseException:
            self._abort_own()
            raise
        finally:
            self._buffer = bytearray()

    def _abandon(self) -> None:
        self._broken = True  # ``_close`` then publishes nothing and aborts an upload this writer started

    def _commit(self) -> None:
        try:
            if self._broken:
                raise StorageDriverError(self.path, "writer failed earlier; close it and resume")
            if self._progress is None:
                if self._dirty:  # everything is in the buffer: one PutObject
                    self._bucket.put(self._key, bytes(self._buffer), if_match=self._etag)
            elif self._tail:  # resumed and not written to: the tail object is copied in server-side
                complete(self._bucket, self._key, self._progress, self._tail, self._etag)
            else:
                if self._buffer:
                    self._send(bytes(self._buffer))  # the last part may be short
                parts = self._progress.verified_parts(self._bucket, self._key)
                self._bucket.complete(self._key, self._progress.upload_id, parts)
        except BaseException:
            self._abort_own()
            raise
        finally:
            self._buffer = bytearray()

    def _cancel(self) -> None:
        if self._progress is not None:
            self._bucket.abort(self._key, self._progress.upload_id)
        self._bucket.delete([self._key])

    # ---- internals ----

    def _take_over(self) -> None:
        """Make the object's bytes part of this writer: a tail or small file into the buffer, a large file
        (a plain object) into a new upload as copied parts."""
        size, self._tail = self._tail, 0
        if self._progress is None and size >= MIN_PART_SIZE:
            self._start()
            assert self._progress is not None
            upload_id = self._progress.upload_id
            ranges = part_ranges(size, self._bucket.settings.multipartcopychunksize)
            copied = copy_parts(self._bucket, self._key, upload_id, self._key, size, if_match=self._etag)
            for (_, etag), (first, last) in zip(copied, ranges, strict=True):
                self._progress = self._progress.extended(etag, last - first + 1)
            return
        fetched = self._bucket.fetch(self._key, if_match=self._etag)
        if fetched is None:
            raise StorageDriverError(self.path, "the file vanished while it was being appended to")
        with fetched[0] as body:
            old = body.read()
        if len(old) != size:
            raise StorageDriverError(self.path, "the file changed while it was being appended to")
        self._buffer[:0] = old

    def _start(self) -> None:
        self._progress = Pending(self._bucket.create_upload(self._key))
        self._own = True

    def _send(self, data: bytes) -> None:
        if self._progress is None:
            self._start()
        assert self._progress is not None
        number = self._progress.parts + 1
        if number > MAX_PARTS:
            raise StorageDriverError(self.path, f"more than {MAX_PARTS} parts: raise storage.s3.chunksize")
        etag = self._bucket.upload_part(self._key, self._progress.upload_id, number, data)
        self._progress = self._progress.extended(etag, len(data))

    def _abort_own(self) -> None:
        if self._own and self._progress is not None:
            self._bucket.abort(self._key, self._progress.upload_id)
        self._own = False
