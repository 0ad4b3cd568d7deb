"""A file still being written: an open multipart upload plus a short tail object, described by the tail.

Between the requests of a chunked upload, the file at key ``K`` is two things in the bucket:

* an open multipart upload for ``K`` holding the first bytes in parts 1..n, each at least 5 MiB (S3 refuses
  shorter parts anywhere but last), and
* the object ``K`` itself holding the bytes after them (the *tail*, under 5 MiB), with user metadata naming
  the upload, n, the bytes in parts and a hash chain over every part's number, ETag and size.

So one HeadObject tells the whole size (``size`` + the object's length) and how to resume: any request,
process or replica appends by downloading only the tail; nothing is re-uploaded or copied per request.
S3 shows nothing of an open upload, so whoever must read the bytes (``reader``, ``move``, a writer's
``commit``) first *completes* it (:func:`complete`): the parts are listed (ListParts) and checked against
the recorded chain and size — a part overwritten or lost since it was recorded fails the completion rather
than publishing other bytes — the tail is copied server-side as the last part (pinned to the version whose
metadata was read), and CompleteMultipartUpload replaces the tail object with the whole file.

distribution keeps the same upload open across requests and finds it again by listing uploads
(ListMultipartUploads, ListParts); its short last part forces it to complete and re-copy everything on the
next append. Keeping the short tail outside the upload avoids that, and the metadata saves the listing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from registry_impl.storage.driver.base import StorageDriverError

from .bucket import Bucket, error_code

__all__ = ["Pending", "complete", "completed_head", "link", "version_of"]

_UPLOAD, _PARTS, _SIZE, _CHAIN = (
    "registry-upload-id",
    "registry-parts",
    "registry-parts-size",
    "registry-parts-chain",
)
_RACES = frozenset({"NoSuchUpload", "PreconditionFailed", "412", "404", "NoSuchKey"})


def link(chain: str, number: int, etag: str, size: int) -> str:
    """The chain extended by one part (ETags compared without their quotes)."""
    bare = etag.strip('"')
    return hashlib.sha256(f"{chain}\n{number} {bare} {size}".encode()).hexdigest()


@dataclass(frozen=True)
class Pending:
    """Parts 1..``parts`` of upload ``upload_id`` hold the file's first ``size`` bytes; ``chain`` links them."""

    upload_id: str
    parts: int = 0
    size: int = 0
    chain: str = ""

    @classmethod
    def of(cls, metadata: Mapping[str, str] | None) -> Pending | None:
        """The state recorded in an object's user metadata, or None for a plain object."""
        if not metadata or _UPLOAD not in metadata:
            return None
        try:
            return cls(metadata[_UPLOAD], int(metadata[_PARTS]), int(metadata[_SIZE]), metadata[_CHAIN])
        except (KeyError, ValueError) as err:
            raise StorageDriverError("", f"unreadable upload state in the object's metadata: {err}") from err

    @classmethod
    def of_head(cls, head: Mapping[str, Any]) -> Pending | None:
        return cls.of(head.get("Metadata"))

    def metadata(self) -> dict[str, str]:
        return {_UPLOAD: self.upload_id, _PARTS: str(self.parts), _SIZE: str(self.size), _CHAIN: self.chain}

    def extended(self, etag: str, size: int) -> Pending:
        """This state with part ``parts + 1`` appended."""
        number = self.parts + 1
        return Pending(self.upload_id, number, self.size + size, link(self.chain, number, etag, size))

    def verified_parts(self, bucket: Bucket, key: str) -> list[tuple[int, str]]:
        """(number, ETag) of parts 1..n as listed by S3, after checking them against the recorded chain."""
        listed = {
            int(p["PartNumber"]): (str(p["ETag"]), int(p["Size"])) for p in bucket.parts(key, self.upload_id)
        }
        chain, size, parts = "", 0, []
        for number in range(1, self.parts + 1):
            if number not in listed:
                raise StorageDriverError("", f"part {number} of the multipart upload is missing")
            etag, part_size = listed[number]
            chain, size = link(chain, number, etag, part_size), size + part_size
            parts.append((number, etag))
        if chain != self.chain or size != self.size:
            raise StorageDriverError("", "the multipart upload's parts changed since they were recorded")
        return parts


def version_of(etag: str | None, pending: Pending | None) -> str:
    """The ``FileInfo.version`` of an object: its ETag and, while it is pending, the upload and its part chain
    (two tails of the same bytes — two empty ones — have one ETag, never one chain)."""
    if pending is None:
        return str(etag)
    return f"{etag}|{pending.upload_id}|{pending.parts}|{pending.chain}"


def complete(bucket: Bucket, key: str, pending: Pending, tail: int, tail_etag: str | None) -> None:
    """Publish the pending file: checked parts, then the tail object copied in as the last part."""
    parts = pending.verified_parts(bucket, key)
    if tail:
        etag = bucket.copy_part(key, pending.upload_id, pending.parts + 1, key, 0, tail - 1, tail_etag)
        parts.append((pending.parts + 1, etag))
    if not parts:
        raise StorageDriverError("", "an upload state without parts")
    bucket.complete(key, pending.upload_id, parts)


def completed_head(bucket: Bucket, key: str, head: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """HeadObject of ``key`` after completing it if it was pending (None: no such key).

    Two requests completing the same file race harmlessly: the loser's upload is gone or its tail version
    replaced; it looks again and finds the completed file.
    """
    for _ in range(3):
        head = head if head is not None else bucket.head(key)
        pending = Pending.of_head(head) if head is not None else None
        if head is None or pending is None:
            return head
        try:
            complete(bucket, key, pending, int(head["ContentLength"]), head.get("ETag"))
        except ClientError as err:
            if error_code(err) not in _RACES:
                raise
        head = None
    raise StorageDriverError("", "the file kept changing while it was being completed")
