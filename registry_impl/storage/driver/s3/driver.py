"""The S3 storage driver: the driver contract mapped onto one bucket's objects, prefixes and multipart uploads."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO

from registry_impl.storage.driver.base import FileInfo, FileWriter, PathNotFoundError, StorageDriver, walk_key
from registry_impl.storage.driver.claims import Claim

from .bucket import Bucket, mod_time
from .lease import take_lease
from .multipart import multipart_copy
from .pending import Pending, completed_head, version_of
from .settings import S3Settings, make_client
from .writer import S3Writer

__all__ = ["S3Driver"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class S3Driver(StorageDriver):
    """Files are objects, directories are key prefixes; every call is a blocking network request (``remote``).

    Per method: ``get_content``/``reader`` are a GetObject (ranged from the offset; an offset at or past the
    end reads empty); ``put_content`` one PutObject (atomic); ``stat`` a HeadObject, then for a directory a
    one-key listing of ``key/``; ``list`` a delimited, paginated ListObjectsV2; ``move`` a CopyObject, or a
    concurrent multipart copy above ``multipartcopythresholdsize``, then a delete of the source; ``delete``
    removes the key and every key below ``key/`` (found by one listing of ``key``, usually) in
    DeleteObjects batches, aborting multipart uploads below it (a file still being written deleted on its
    own keeps its upload: the registry deletes upload directories); ``walk`` one flat paginated listing;
    ``redirect_url`` a presigned GET or HEAD URL valid for 20 minutes; ``writer`` see :mod:`.writer`;
    ``try_claim`` a lease object, see :mod:`.lease`.

    A file still being written (see :mod:`.pending`) stats at its whole size; ``reader``/``get_content``
    and ``move`` complete it first (a GetObject's metadata tells, so plain reads cost nothing more);
    ``list`` and ``walk`` see only its tail object's size.
    """

    name = "s3"
    remote = True

    def __init__(self, settings: S3Settings, client: Any | None = None) -> None:
        self.settings = settings
        self.bucket = Bucket(client if client is not None else make_client(settings), settings)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> S3Driver:
        """Build from distribution's ``storage.s3`` keys (see :class:`S3Settings`)."""
        return cls(S3Settings.from_params(params))

    def __repr__(self) -> str:
        root = f"/{self.bucket.root}" if self.bucket.root else ""
        return f"<S3Driver s3://{self.bucket.name}{root}>"

    # ---- hooks ----

    def _get_content(self, path: str) -> bytes:
        with self._reader(path, 0) as body:
            return body.read()

    def _put_content(self, path: str, content: bytes) -> None:
        self.bucket.put(self.bucket.key(path), content)

    def _reader(self, path: str, offset: int) -> BinaryIO:
        key = self.bucket.key(path)
        fetched = self.bucket.fetch(key, offset)
        if fetched is not None and Pending.of(fetched[1]) is not None:  # a file still being written
            fetched[0].close()
            completed_head(self.bucket, key)
            fetched = self.bucket.fetch(key, offset)
        if fetched is None:
            raise PathNotFoundError(path)
        return fetched[0]

    def _writer(self, path: str, append: bool) -> FileWriter:
        if not append:
            return S3Writer(self.bucket, self.name, path)
        head = self.bucket.head(self.bucket.key(path))
        if head is None:
            raise PathNotFoundError(path)
        return S3Writer(self.bucket, self.name, path, head)

    def _stat(self, path: str) -> FileInfo:
        if path != "/":
            head = self.bucket.head(self.bucket.key(path))
            if head is not None:
                pending = Pending.of_head(head)
                size = int(head["ContentLength"]) + (pending.size if pending is not None else 0)
                return FileInfo(path, size, mod_time(head), False, version_of(head.get("ETag"), pending))
        first = self.bucket.first(self.bucket.prefix(path))
        if first is None and path != "/":
            raise PathNotFoundError(path)
        return FileInfo(path, 0, mod_time(first) if first is not None else _EPOCH, True)

    def _list(self, path: str) -> builtins.list[str]:
        prefix, base = self.bucket.prefix(path), path.rstrip("/")
        names = {name for name, _ in self.bucket.children(prefix) if Bucket.relative(name, "") is not None}
        if not names and path != "/":
            raise PathNotFoundError(path)
        return [f"{base}/{name}" for name in names]

    def _move(self, src: str, dst: str) -> None:
        source, target = self.bucket.key(src), self.bucket.key(dst)
        head = completed_head(self.bucket, source)  # a file still being written is completed first
        if head is None:
            raise PathNotFoundError(src)
        if source == target:
            return
        size = int(head["ContentLength"])
        if size <= self.settings.multipartcopythresholdsize:
            self.bucket.copy(source, target)
        else:
            multipart_copy(self.bucket, source, target, size)
        self.bucket.delete([source])

    def _delete(self, path: str) -> None:
        key, prefix = self.bucket.key(path), self.bucket.prefix(path)
        found = {"file": False, "below": False}

        def keys() -> Iterator[str]:  # streamed: a large directory is never held in memory
            for obj in self._at_or_below(key, prefix):
                found["below" if obj["Key"] != key else "file"] = True
                yield obj["Key"]

        self.bucket.delete(keys())
        if not (found["file"] or found["below"]):
            raise PathNotFoundError(path)
        if found["below"]:  # uploads of files below still being written, or left by a crashed writer
            for upload_key, upload_id in list(self.bucket.uploads(prefix)):
                self.bucket.abort(upload_key, upload_id)

    def _at_or_below(self, key: str, prefix: str) -> Iterator[dict[str, Any]]:
        """The object at ``key`` and every object below it.

        One listing of ``key`` as a prefix usually answers both (the key itself sorts first); only when
        that page is full, which siblings such as ``key-x/...`` can cause, is ``key/`` listed on its own.
        """
        page = self.bucket.page(key)
        contents = page.get("Contents") or []
        if contents and contents[0]["Key"] == key:
            yield contents[0]
        if page.get("IsTruncated"):
            yield from self.bucket.objects(prefix)
        else:
            yield from (obj for obj in contents if obj["Key"].startswith(prefix))

    def _try_claim(self, path: str, ttl: float, shared: bool) -> Claim | None:
        # A lease has one holder: a shared claim is granted exclusively (see ``claims``).
        return take_lease(self.bucket, path, self.bucket.key(path), ttl)

    def _redirect_url(self, method: str, path: str) -> str | None:
        return self.bucket.presign(method, self.bucket.key(path))

    def _walk(
        self, path: str, start_after: str | None, skip: Callable[[FileInfo], bool] | None = None
    ) -> Iterator[FileInfo]:
        """One flat listing of ``key/``, directories inferred, sorted into walk order; the contents of a
        directory ``skip`` names are listed (S3 has no directories to leave out) but not yielded.

        S3 lists in byte order, where ``b-x`` sorts before ``b/c`` but walk order puts it after: a key
        after ``start_after`` in walk order can come before it in byte order only by differing at one of its
        slashes, so the listing may safely start after the first component of ``start_after`` below ``path``.
        """
        prefix, base = self.bucket.prefix(path), path.rstrip("/")
        start_key = None
        if start_after is not None and start_after.startswith(base + "/"):
            start_key = prefix + start_after[len(base) + 1 :].split("/", 1)[0]
        files: list[FileInfo] = []
        directories: dict[str, datetime] = {}
        for obj in self.bucket.objects(prefix, start_key):
            rel = Bucket.relative(obj["Key"], prefix)
            if rel is None:
                continue
            when = mod_time(obj)
            files.append(FileInfo(f"{base}/{rel}", int(obj["Size"]), when, False))
            parts = rel.split("/")
            for depth in range(1, len(parts)):
                directory = f"{base}/{'/'.join(parts[:depth])}"
                directories[directory] = max(when, directories.get(directory, when))
        if not files and path != "/" and (start_key is None or self.bucket.first(prefix) is None):
            raise PathNotFoundError(path)
        after = walk_key(start_after) if start_after is not None else None
        infos = files + [FileInfo(d, 0, when, True) for d, when in directories.items()]
        skipped = None  # the directory whose contents are being passed over: in walk order they follow it
        for info in sorted(infos, key=lambda i: walk_key(i.path)):
            if skipped is not None and info.path.startswith(skipped):
                continue
            skipped = None
            if after is None or walk_key(info.path) > after:
                yield info
            if info.is_dir and skip is not None and skip(info):
                skipped = info.path + "/"
