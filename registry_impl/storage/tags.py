"""Tags of one repository: ``_manifests/tags/<tag>/current/link`` plus the tag's index of past digests."""

from __future__ import annotations

from registry_impl.errors import ManifestUnknown
from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.listings import ListingCache


class TagStore:
    def __init__(self, driver: StorageDriver, name: str, listings: ListingCache | None = None) -> None:
        self.driver = driver
        self.name = name
        self.listings = listings or ListingCache(max_entries=0)

    def resolve(self, tag: str) -> str:
        """The digest ``tag`` points at; ManifestUnknown when there is no such tag."""
        try:
            return self.driver.get_content(paths.tag_current_link_path(self.name, tag)).decode()
        except PathNotFoundError as exc:
            raise ManifestUnknown(detail={"tag": tag}) from exc

    def tag(self, tag: str, digest: str) -> None:
        self.driver.put_content(paths.tag_index_link_path(self.name, tag, digest), digest.encode())
        self.driver.put_content(paths.tag_current_link_path(self.name, tag), digest.encode())

    def untag(self, tag: str) -> None:
        try:
            self.driver.stat(paths.tag_current_link_path(self.name, tag))
            self.driver.delete(paths.tag_root(self.name, tag))
        except PathNotFoundError as exc:
            raise ManifestUnknown(detail={"tag": tag}) from exc

    def all(self) -> list[str]:
        """Every tag, sorted; empty when the repository has none.

        The names of the tag directories, as distribution lists them: a tag is written index link
        first and current link last, and removed as a whole directory, so no per-tag check is needed.
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
