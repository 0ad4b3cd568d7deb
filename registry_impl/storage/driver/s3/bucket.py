"""One bucket below a root prefix: the S3 requests the driver makes, keys mapped to paths, errors to ours.

A path ``/a/b`` is the key ``<root>/a/b`` (no leading slash, as distribution's ``s3Path``); a directory is the
set of keys that start with its key and ``/``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from registry_impl.storage.driver.base import StorageDriverError

from .settings import S3Settings

__all__ = ["Bucket", "error_code", "mod_time"]

_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
_NAMES = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
PRESIGN_SECONDS = 20 * 60  # distribution's expiry for redirect URLs


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def mod_time(obj: Mapping[str, Any]) -> datetime:
    """``LastModified`` of a listed or fetched object, in UTC (botocore gives local time)."""
    return cast(datetime, obj["LastModified"]).astimezone(UTC)


class Bucket:
    """The driver's bucket and root; every method is one S3 request or one paginated listing."""

    def __init__(self, client: Any, settings: S3Settings) -> None:
        self.client = client
        self.name = settings.bucket
        self.settings = settings
        self.root = settings.rootdirectory.rstrip("/").lstrip("/")
        self._options = settings.object_options()

    # ---- keys and paths ----

    def key(self, path: str) -> str:
        """The key of a file path (never ``/``)."""
        return f"{self.root}{path}" if self.root else path[1:]

    def prefix(self, path: str) -> str:
        """The prefix of every key below the directory ``path`` (``/`` included)."""
        if path == "/":
            return f"{self.root}/" if self.root else ""
        return self.key(path) + "/"

    @staticmethod
    def relative(key: str, prefix: str) -> str | None:
        """``key`` below ``prefix`` as ``a/b``, or None when that is no valid path (``dir/`` markers, spaces)."""
        rest = key[len(prefix) :]
        if not _NAMES.fullmatch(rest) or any(part in (".", "..") for part in rest.split("/")):
            return None
        return rest

    # ---- objects ----

    def head(self, key: str) -> dict[str, Any] | None:
        """HeadObject, or None when there is no such key."""
        try:
            return cast(dict[str, Any], self.client.head_object(Bucket=self.name, Key=key))
        except ClientError as err:
            if error_code(err) in _NOT_FOUND:
                return None
            raise

    def get(self, key: str, offset: int = 0, if_match: str | None = None) -> BinaryIO | None:
        """The body from ``offset`` (a ranged GetObject); empty past the end; None when there is no such key."""
        fetched = self.fetch(key, offset, if_match)
        return fetched[0] if fetched is not None else None

    def fetch(
        self, key: str, offset: int = 0, if_match: str | None = None
    ) -> tuple[BinaryIO, dict[str, str]] | None:
        """GetObject from ``offset``: the body and the object's user metadata (empty past the end), or None."""
        extra: dict[str, str] = {"Range": f"bytes={offset}-"} if offset else {}
        if if_match:
            extra["IfMatch"] = if_match
        try:
            response = self.client.get_object(Bucket=self.name, Key=key, **extra)
        except ClientError as err:
            code = error_code(err)
            if code in _NOT_FOUND:
                return None
            if code == "InvalidRange":  # at or past the end (S3 answers 404 first for a missing key)
                return io.BytesIO(b""), {}
            raise
        return cast(BinaryIO, response["Body"]), dict(response.get("Metadata") or {})

    def put(
        self, key: str, content: bytes, metadata: Mapping[str, str] | None = None, if_match: str | None = None
    ) -> str:
        """PutObject; with ``if_match`` only over that version (a conditional write: else PreconditionFailed).
        The new object's ETag."""
        extra: dict[str, Any] = {"Metadata": dict(metadata)} if metadata else {}
        if if_match:
            extra["IfMatch"] = if_match
        response = self.client.put_object(Bucket=self.name, Key=key, Body=content, **self._options, **extra)
        return str(response.get("ETag"))

    def copy(self, source: str, key: str) -> None:
        """A single-request server-side copy (up to 5 GiB)."""
        self.client.copy_object(
            Bucket=self.name, Key=key, CopySource={"Bucket": self.name, "Key": source}, **self._copy_options()
        )

    def delete(self, keys: Iterable[str]) -> None:
        """Delete keys (absent ones are no error) in DeleteObjects batches."""
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == self.settings.delete_batch_size:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, keys: list[str]) -> None:
        if len(keys) == 1:
            self.client.delete_object(Bucket=self.name, Key=keys[0])
            return
        response = self.client.delete_objects(
            Bucket=self.name, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
        )
        errors = response.get("Errors") or []
        if errors:
            detail = "; ".join(f"{e.get('Key')}: {e.get('Code')} {e.get('Message')}" for e in errors[:5])
            raise StorageDriverError("", f"{len(errors)} of {len(keys)} deletes failed: {detail}")

    def presign(self, method: str, key: str) -> str | None:
        operation = {"GET": "get_object", "HEAD": "head_object"}.get(method.upper())
        if operation is None:
            return None
        params = {"Bucket": self.name, "Key": key}
        return cast(
            str, self.client.generate_presigned_url(operation, Params=params, ExpiresIn=PRESIGN_SECONDS)
        )

    # ---- listings ----

    def objects(self, prefix: str, start_after: str | None = None) -> Iterator[dict[str, Any]]:
        """Every object whose key starts with ``prefix``, in key order, page by page."""
        for page in self._pages(prefix, None, start_after):
            yield from page.get("Contents") or ()

    def children(self, prefix: str) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """(name, object) of each file and (name, None) of each subdirectory directly below ``prefix``."""
        for page in self._pages(prefix, "/", None):
            for obj in page.get("Contents") or ():
                yield obj["Key"][len(prefix) :], obj
            for common in page.get("CommonPrefixes") or ():
                yield common["Prefix"][len(prefix) : -1], None

    def page(self, prefix: str) -> dict[str, Any]:
        """The first ListObjectsV2 page of keys starting with ``prefix``."""
        args = {"Bucket": self.name, "Prefix": prefix, "MaxKeys": self.settings.list_page_size}
        return cast(dict[str, Any], self.client.list_objects_v2(**args))

    def first(self, prefix: str) -> dict[str, Any] | None:
        """The first object below ``prefix``, if any (one small request)."""
        response = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix, MaxKeys=1)
        contents = response.get("Contents") or []
        return cast(dict[str, Any], contents[0]) if contents else None

    def _pages(self, prefix: str, delimiter: str | None, start_after: str | None) -> Iterator[dict[str, Any]]:
        """ListObjectsV2 pages; a flat listing resumes after its last key, so deleting as it goes is safe."""
        args: dict[str, Any] = {
            "Bucket": self.name,
            "Prefix": prefix,
            "MaxKeys": self.settings.list_page_size,
        }
        if delimiter:
            args["Delimiter"] = delimiter
        if start_after:
            args["StartAfter"] = start_after
        while True:
            page = cast(dict[str, Any], self.client.list_objects_v2(**args))
            yield page
            if not page.get("IsTruncated"):
                return
            contents = page.get("Contents") or []
            if delimiter is None and contents:
                args["StartAfter"] = contents[-1]["Key"]
            elif page.get("NextContinuationToken"):
                args["ContinuationToken"] = page["NextContinuationToken"]
            else:
                return

    # ---- multipart uploads ----

    def create_upload(self, key: str) -> str:
        response = self.client.create_multipart_upload(Bucket=self.name, Key=key, **self._options)
        return cast(str, response["UploadId"])

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        response = self.client.upload_part(
            Bucket=self.name, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return cast(str, response["ETag"])

    def copy_part(
        self, key: str, upload_id: str, number: int, source: str, first: int, last: int, if_match: str | None
    ) -> str:
        """UploadPartCopy of bytes ``first..last`` (inclusive) of ``source``, optionally only from one version."""
        extra = {"CopySourceIfMatch": if_match} if if_match else {}
        response = self.client.upload_part_copy(
            Bucket=self.name,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": self.name, "Key": source},
            CopySourceRange=f"bytes={first}-{last}",
            **extra,
        )
        return cast(str, response["CopyPartResult"]["ETag"])

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        completed = [{"PartNumber": number, "ETag": etag} for number, etag in sorted(parts)]
        self.client.complete_multipart_upload(
            Bucket=self.name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed}
        )

    def parts(self, key: str, upload_id: str) -> Iterator[dict[str, Any]]:
        """Every part uploaded so far (``PartNumber``, ``ETag``, ``Size``), page by page (ListParts)."""
        args: dict[str, Any] = {"Bucket": self.name, "Key": key, "UploadId": upload_id}
        while True:
            page = self.client.list_parts(**args)
            yield from page.get("Parts") or ()
            if not page.get("IsTruncated"):
                return
            args["PartNumberMarker"] = page["NextPartNumberMarker"]

    def abort(self, key: str, upload_id: str) -> None:
        """Abort an upload; one already gone is no error."""
        try:
            self.client.abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id)
        except ClientError as err:
            if error_code(err) not in ("NoSuchUpload", "404"):
                raise

    def uploads(self, prefix: str) -> Iterator[tuple[str, str]]:
        """(key, upload id) of every in-progress multipart upload whose key starts with ``prefix``."""
        args: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix}
        while True:
            page = self.client.list_multipart_uploads(**args)
            for upload in page.get("Uploads") or ():
                if upload["Key"].startswith(prefix):  # some S3 implementations ignore Prefix
                    yield upload["Key"], upload["UploadId"]
            if not page.get("IsTruncated"):
                return
            args["KeyMarker"] = page.get("NextKeyMarker")
            args["UploadIdMarker"] = page.get("NextUploadIdMarker")

    def _copy_options(self) -> dict[str, str]:
        return {name: value for name, value in self._options.items() if name != "ContentType"}
