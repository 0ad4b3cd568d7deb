"""Blob content and the links that make a blob visible in a repository, with the descriptor cache in front.

Reads consult the cache first and fill it from storage on a miss; writes always ask storage. Invalidation:
``RepositoryBlobs.delete``/``invalidate`` clear a repository's entry (a link went away), and
``BlobStore.delete``/``invalidate`` the registry-wide one (the data went away, as in garbage collection).
A cached blob whose data turns out to be gone when read is cleared and answered ``BlobUnknown``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from registry_impl.digests import digest_of
from registry_impl.errors import BlobUnknown
from registry_impl.storage import paths
from registry_impl.storage.cache.base import (
    BlobDescriptorCacheProvider,
    BlobDescriptorService,
    Descriptor,
    NoCache,
)
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver


@dataclass(frozen=True)
class BlobInfo:
    """What the registry knows of a blob: its digest, size and where its bytes are."""

    digest: str
    size: int
    path: str


class BlobStore:
    """The registry-wide content store: ``blobs/<alg>/<xx>/<hex>/data``, shared by every repository."""

    def __init__(self, driver: StorageDriver, cache: BlobDescriptorCacheProvider | None = None) -> None:
        self.driver = driver
        self.cache = cache if cache is not None else NoCache()

    def stat(self, digest: str) -> BlobInfo | None:
        """The blob if its data exists (the cache's word for it when cached)."""
        cached = self.cache.stat(digest)
        if cached is not None:
            return BlobInfo(digest, cached.size, paths.blob_data_path(digest))
        info = self.stat_storage(digest)
        if info is not None:
            remember(self.cache, info)
        return info

    def stat_storage(self, digest: str) -> BlobInfo | None:
        """The blob if its data exists, asking storage (writes decide on this, never on the cache)."""
        path = paths.blob_data_path(digest)
        try:
            info = self.driver.stat(path)
        except PathNotFoundError:
            return None
        return None if info.is_dir else BlobInfo(digest, info.size, path)

    def get(self, digest: str) -> bytes:
        try:
            return self.driver.get_content(paths.blob_data_path(digest))
        except PathNotFoundError as exc:
            self.invalidate(digest)
            raise BlobUnknown(detail={"digest": digest}) from exc

    def put(self, content: bytes, algorithm: str = "sha256") -> str:
        """Store ``content`` atomically and return its digest.

        A blob already there is kept only if it holds exactly these bytes: a file with other bytes under
        this digest (a torn or foreign write) is replaced, never adopted.
        """
        digest = digest_of(content, algorithm)
        path = paths.blob_data_path(digest)
        try:
            if self.driver.get_content(path) == content:
                return digest
        except PathNotFoundError:
            pass
        self.driver.put_content(path, content)
        self.invalidate(digest)
        return digest

    def adopt(self, source_path: str, digest: str) -> None:
        """Move upload data at ``source_path``, already verified against ``digest``, into place (an atomic
        rename on a filesystem). Whatever the blob's file held before is replaced, not trusted: verified
        bytes are the only ones a digest may serve."""
        before = self.stat_storage(digest)
        self.driver.move(source_path, paths.blob_data_path(digest))
        if before is not None:
            after = self.stat_storage(digest)
            if after is None or after.size != before.size:
                self.invalidate(digest)  # a cached size of the wrong bytes must go

    def open(self, info: BlobInfo, offset: int = 0) -> BinaryIO:
        """A reader at ``offset``; BlobUnknown (and the cache entry cleared) when the data is gone."""
        try:
            return self.driver.reader(info.path, offset)
        except PathNotFoundError as exc:
            self.invalidate(info.digest)
            raise BlobUnknown(detail={"digest": info.digest}) from exc

    def delete(self, digest: str) -> None:
        """Remove the blob's data (garbage collection); BlobUnknown when there was none."""
        try:
            self.driver.delete(paths.blob_path(digest))
        except PathNotFoundError as exc:
            raise BlobUnknown(detail={"digest": digest}) from exc
        finally:
            self.invalidate(digest)

    def invalidate(self, digest: str) -> None:
        """Forget ``digest`` registry-wide: every repository's cached hit for it goes too."""
        self.cache.clear(digest)

    def redirect_url(self, info: BlobInfo, method: str) -> str | None:
        return self.driver.redirect_url(method, info.path)


def remember(cache: BlobDescriptorService, info: BlobInfo) -> None:
    """Fill ``cache`` from what storage said; a value the cache refuses is simply not cached."""
    with contextlib.suppress(ValueError):
        cache.set_descriptor(info.digest, Descriptor(info.digest, info.size))


class LinkSet:
    """Link files that name digests, e.g. ``_layers/<alg>/<hex>/link`` or ``_manifests/revisions/...``."""

    def __init__(self, driver: StorageDriver, link_path: Callable[[str], str]) -> None:
        self.driver = driver
        self.link_path = link_path

    def linked(self, digest: str, *, cached: bool = False) -> bool:
        """Whether the link names ``digest``; ``cached`` only for the answer of a read-only request."""
        read = self.driver.get_content_cached if cached else self.driver.get_content
        try:
            return read(self.link_path(digest)).decode() == digest
        except PathNotFoundError:
            return False

    def link(self, digest: str) -> None:
        path = self.link_path(digest)
        try:
            if self.driver.get_content(path).decode() == digest:
                return
        except PathNotFoundError:
            pass
        self.driver.put_content(path, digest.encode())

    def unlink(self, digest: str) -> bool:
        """Remove the link's directory; False when there was none."""
        path = self.link_path(digest).rsplit("/", 1)[0]
        try:
            self.driver.delete(path)
        except PathNotFoundError:
            return False
        return True


class RepositoryBlobs:
    """The blobs of one repository: visible only where linked under ``_layers``."""

    def __init__(self, store: BlobStore, name: str) -> None:
        self.store = store
        self.name = name
        self.links = LinkSet(store.driver, lambda digest: paths.layer_link_path(name, digest))
        self.cache = store.cache.repository_scoped(name)

    def stat(self, digest: str) -> BlobInfo:
        """The blob if it is linked here and its data exists; BlobUnknown otherwise (cached: no storage I/O)."""
        cached = self.cache.stat(digest)
        if cached is not None:
            return BlobInfo(digest, cached.size, paths.blob_data_path(digest))
        info = self.store.stat(digest) if self.links.linked(digest) else None
        if info is None:
            raise BlobUnknown(detail={"digest": digest})
        remember(self.cache, info)
        return info

    def exists(self, digest: str) -> bool:
        try:
            self.stat(digest)
        except BlobUnknown:
            return False
        return True

    def link(self, digest: str) -> None:
        self.links.link(digest)

    def delete(self, digest: str) -> None:
        """Unlink the blob from this repository (its data stays for garbage collection)."""
        unlinked = self.links.unlink(digest)
        self.invalidate(digest)
        if not unlinked:
            raise BlobUnknown(detail={"digest": digest})

    def invalidate(self, digest: str) -> None:
        """Forget that ``digest`` is linked here (other repositories keep their entries)."""
        self.cache.clear(digest)
