"""The S3 file writer: bytes buffered into ``chunksize`` parts of a multipart upload, published on close.

The contract asks that ``close`` leave the bytes readable (the registry stats and reads an upload's data
between requests), and S3 shows nothing of a multipart upload until it is completed. So ``close`` publishes:
a file that still fits the buffer is one PutObject; a longer one completes its multipart upload. The state
that lets another request, process or replica append is therefore the object itself, and resuming follows
distribution's answer to "a short last part cannot be a middle part": an object under 5 MiB is downloaded
and re-uploaded at the head of the buffer; a larger one becomes the first parts of a new upload by
server-side UploadPartCopy, pinned to the version that was measured (``CopySourceIfMatch``). Both happen only
once bytes are written, so opening to append and closing without writing costs one HeadObject.

After a failed request the writer is broken: ``close`` aborts its upload and leaves the object as it was, so
a later ``writer(append=True)`` sees exactly the last published bytes.
"""

from __future__ import annotations

from registry_impl.storage.driver.base import FileWriter, StorageDriverError

from .bucket import Bucket
from .multipart import copy_parts
from .settings import MAX_PARTS, MIN_PART_SIZE

__all__ = ["S3Writer"]


class S3Writer(FileWriter):
    """Appends to ``key``; ``size`` counts the published bytes resumed, the parts sent and the buffer."""

    def __init__(
        self, bucket: Bucket, driver_name: str, path: str, *, resumed: int = 0, etag: str | None = None
    ) -> None:
        super().__init__(driver_name, path, resumed)
        self._bucket = bucket
        self._key = bucket.key(path)
        self._chunk = bucket.settings.chunksize
        self._resumed = resumed  # bytes of the existing object not yet in this writer's buffer or upload
        self._etag = etag
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[tuple[int, str]] = []
        self._dirty = resumed == 0 and etag is None  # a new (truncating) writer publishes even when empty
        self._broken = False

    # ---- FileWriter hooks ----

    def _write(self, data: bytes) -> None:
        if self._broken:
            raise StorageDriverError(self.path, "writer failed earlier; close it and resume")
        if not data:
            return
        try:
            self._buffer += data
            self._dirty = True
            if len(self._buffer) >= self._chunk:
                self._take_over()
                while len(self._buffer) >= self._chunk:
                    with memoryview(self._buffer) as view:  # one copy of the part, not two
                        part = bytes(view[: self._chunk])
                    self._send(part)
                    del self._buffer[: self._chunk]
        except BaseException:
            self._broken = True
            raise

    def _close(self) -> None:
        if self._state == "cancelled":  # the base class closes before cancelling: publish nothing
            self._release()
            return
        self._publish()

    def _commit(self) -> None:
        self._publish()  # a completed upload is already durable

    def _cancel(self) -> None:
        self._abort()
        self._bucket.delete([self._key])

    # ---- internals ----

    def _publish(self) -> None:
        try:
            if self._broken:
                self._abort()
            elif self._dirty:
                if self._upload_id is None and self._resumed < MIN_PART_SIZE:
                    self._take_over()  # everything fits the buffer: one PutObject
                    self._bucket.put(self._key, bytes(self._buffer))
                else:
                    self._take_over()
                    if self._buffer or not self._parts:
                        self._send(bytes(self._buffer))  # the last part may be short
                    assert self._upload_id is not None
                    self._bucket.complete(self._key, self._upload_id, self._parts)
                    self._upload_id = None
        except BaseException:
            self._abort()
            raise
        finally:
            self._release()

    def _take_over(self) -> None:
        """Make the resumed bytes part of this writer: re-read them into the buffer, or copy them as parts."""
        if not self._resumed:
            return
        if self._resumed < MIN_PART_SIZE:
            body = self._bucket.get(self._key, if_match=self._etag)
            old = body.read() if body is not None else b""
            if body is not None:
                body.close()
            if body is None or len(old) != self._resumed:
                raise StorageDriverError(self.path, "the file changed while it was being appended to")
            self._buffer[:0] = old
        else:
            self._upload_id = self._upload_id or self._bucket.create_upload(self._key)
            self._parts = copy_parts(
                self._bucket, self._key, self._upload_id, self._key, self._resumed, if_match=self._etag
            )
        self._resumed = 0

    def _send(self, data: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self._bucket.create_upload(self._key)
        number = len(self._parts) + 1
        if number > MAX_PARTS:
            raise StorageDriverError(self.path, f"more than {MAX_PARTS} parts: raise storage.s3.chunksize")
        self._parts.append((number, self._bucket.upload_part(self._key, self._upload_id, number, data)))

    def _abort(self) -> None:
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:
            self._bucket.abort(self._key, upload_id)

    def _release(self) -> None:
        self._buffer = bytearray()
        self._parts = []
