"""Tags of one repository: ``_manifests/tags/<tag>/current/link`` plus the tag's index of past digests."""

from __future__ import annotations

import contextlib

from registry_impl.errors import ManifestUnknown
from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.listings import ListingCache


class TagStore:
    def __init__(self, driver: StorageDriver, name: str, listings: ListingCache | None = None) -> None:
        self.driver = driver
        self.name = name
        self.listings = listings or ListingCache(max_entries=0)

    def resolve(self, tag: str, *, cached: bool = False) -> str:
        """The digest ``tag`` points at; ManifestUnknown when there is no such tag. ``cached`` for the
        answer of a read-only request (``StorageDriver.get_content_cached``), never to decide a write."""
        path = paths.tag_current_link_path(self.name, tag)
        try:
            if cached:
                return self.driver.get_content_cached(path).decode()
            return self.driver.get_content(path).decode()
        except PathNotFoundError as exc:
            raise ManifestUnknown(detail={"tag": tag}) from exc

    def tag(self, tag: str, digest: str) -> None:
        """Point ``tag`` at ``digest``: the current link first, which makes the tag exist (its directory
        appears with that file), then the index entry, which a crash may leave missing, harmlessly: it is
        the tag's history, which nothing resolves or keeps a manifest by (GC only deletes entries), so it
        is written without the syncs a durable write costs (two on a disk, half a manifest PUT's time)."""
        self.driver.put_content(paths.tag_current_link_path(self.name, tag), digest.encode())
        self.driver.put_content(paths.tag_index_link_path(self.name, tag, digest), digest.encode(), durable=False)

    def untag(self, tag: str, only_if: str | None = None) -> bool:
        """Remove ``tag`` (ManifestUnknown when there is none); with ``only_if``, only while it still points
        at that digest (False otherwise). The index goes first and the current link last, so the tag
        never lingers in a listing without resolving, even on storage that deletes key by key."""
        try:
            current = self.driver.get_content(paths.tag_current_link_path(self.name, tag)).decode()
        except PathNotFoundError as exc:
            raise ManifestUnknown(detail={"tag": tag}) from exc
        if only_if is not None and current != only_if:
            return False
        with contextlib.suppress(PathNotFoundError):
            self.driver.delete(paths.tag_index_root(self.name, tag))
        try:
            self.driver.delete(paths.tag_root(self.name, tag))
        except PathNotFoundError as exc:
            raise ManifestUnknown(detail={"tag": tag}) from exc
        return True

    def all(self) -> list[str]:
        """Every tag, sorted; empty when the repository has none.

        The names of the tag directories, as distribution lists them: a tag directory appears with its
        current link and loses it last (see ``tag`` and ``untag``), so no per-tag check is needed.
        """
        try:
            return self.listings.names(self.driver, paths.tags_root(self.name))
        except PathNotFoundError:
            return []

    def pointing_at(self, digest: str) -> list[str]:
        """Tags whose current link is ``digest``."""
        found = []
        for tag in self.all():
            try:
                if self.resolve(tag) == digest:
                    found.append(tag)
            except ManifestUnknown:
                continue
        return found
