"""The registry over one storage driver: repositories, the catalog, mounts and the write policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from registry_impl.errors import BlobUnknown, NameUnknown, Unsupported
from registry_impl.manifests import SparseRules, URLRules
from registry_impl.schema1 import Schema1Policy
from registry_impl.storage import paths
from registry_impl.storage.blobclaims import BLOB_CLAIM_WAIT, blobs_claimed
from registry_impl.storage.blobs import BlobInfo, BlobStore, RepositoryBlobs
from registry_impl.storage.cache.base import BlobDescriptorCacheProvider
from registry_impl.storage.cache.memory import MemoryCache
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.listings import ListingCache
from registry_impl.storage.manifestcache import ByteBoundedLRU
from registry_impl.storage.manifests import ManifestStore, StoredManifest
from registry_impl.storage.referrers import ReferrerStore
from registry_impl.storage.tags import TagStore
from registry_impl.storage.uploads import HasherCache, UploadStore

MANIFESTS_DIR = "_manifests"
# A repository is a directory with content linked into it: distribution's catalog looks for
# ``_layers``; ``_manifests`` covers a repository whose blob links were all deleted.
CONTENT_DIRS = frozenset({"_layers", MANIFESTS_DIR})


@dataclass(frozen=True)
class Policy:
    """What the registry allows: deletes (``storage.delete.enabled``), writes (maintenance read-only) and
    the layer URLs of pushed manifests (``validation.manifests.urls``) and which of their references may be
    missing (``validation.manifests.indexes`` and ``layers``: sparse manifests)."""

    delete_enabled: bool = True
    read_only: bool = False
    manifest_urls: URLRules = field(default_factory=URLRules)
    sparse: SparseRules = field(default_factory=SparseRules)
    schema1: Schema1Policy = field(default_factory=Schema1Policy)


REPOSITORY_OBJECTS = 1024  # repositories whose store objects are kept between requests


class Repository:
    """One repository's stores, created on demand (nothing is written until content arrives)."""

    def __init__(self, registry: Registry, name: str) -> None:
        self.registry = registry
        self.name = name
        self.policy = registry.policy
        driver = registry.driver
        self.blobs = RepositoryBlobs(registry.blobs, name)
        self.tags = TagStore(driver, name, registry.listings)
        self.referrers = ReferrerStore(driver, name)
        self.manifests = ManifestStore(
            driver,
            registry.blobs,
            name,
            self.blobs,
            self.tags,
            self.referrers,
            registry.manifest_cache,
            url_rules=registry.policy.manifest_urls,
            sparse=registry.policy.sparse,
            schema1_policy=registry.policy.schema1,
        )

    @cached_property
    def uploads(self) -> UploadStore:
        return UploadStore(self.registry.driver, self.registry.blobs, self.name, self.registry.hashers)

    def exists(self) -> bool:
        """Whether content is linked here (a bare parent of nested repositories, or an upload, is not)."""
        root = paths.repository_root(self.name)
        for directory in CONTENT_DIRS:
            try:
                if self.registry.driver.stat(f"{root}/{directory}").is_dir:
                    return True
            except PathNotFoundError:
                continue
        return False

    def require(self) -> None:
        """NameUnknown unless the repository exists."""
        if not self.exists():
            raise NameUnknown(detail={"name": self.name})

    def mount(self, digest: str, source: str | None, claim_wait: float = BLOB_CLAIM_WAIT) -> BlobInfo:
        """Link a blob from ``source`` (or, with no source, from anywhere in the registry); ``claim_wait``:
        how long to wait for the blob's claim (``BlobBusy`` after it, before anything is written)."""
        if source is not None and not self.registry.repository(source).blobs.links.linked(digest):
            raise BlobUnknown(detail={"digest": digest})
        # Under the blob's claim, the data checked in storage and the link rewritten (a fresh mtime): online
        # GC keeps a blob with a link younger than its grace period (see .blobclaims and .onlinegc).
        with blobs_claimed(self.registry.driver, [digest], claim_wait):
            info = self.registry.blobs.stat_storage(digest)
            if info is None:
                self.registry.blobs.invalidate(digest)
                raise BlobUnknown(detail={"digest": digest})
            self.registry.driver.put_content(paths.layer_link_path(self.name, digest), digest.encode())
        return info


class Registry:
    def __init__(
        self,
        driver: StorageDriver,
        policy: Policy | None = None,
        cache: BlobDescriptorCacheProvider | None = None,
    ) -> None:
        """``cache`` is the blob descriptor cache: an in-memory one when not given (``NoCache()`` for none)."""
        self.driver = driver
        self.policy = policy or Policy()
        self.blob_cache = cache if cache is not None else MemoryCache()
        self.blobs = BlobStore(driver, self.blob_cache)
        self.hashers = HasherCache()
        self.listings = ListingCache()
        # One entry per directory of the repositories tree: a stat replaces a listing on every page.
        self.catalog_listings = ListingCache(max_entries=1 << 15)
        self.manifest_cache: ByteBoundedLRU[StoredManifest] = ByteBoundedLRU()
        self._repositories: dict[str, Repository] = {}

    @property
    def remote(self) -> bool:
        """Whether storage calls are network round trips (an S3 driver, a Redis blob cache)."""
        return self.driver.remote or self.blob_cache.remote

    def repository(self, name: str) -> Repository:
        """``name``'s stores. They hold no state of their own, so one set per name is kept (bounded) and
        made again only when the policy they were made under is replaced."""
        repo = self._repositories.get(name)
        if repo is None or repo.policy is not self.policy:
            if len(self._repositories) >= REPOSITORY_OBJECTS:
                self._repositories.clear()
            repo = self._repositories[name] = Repository(self, name)
        return repo

    def require_writable(self) -> None:
        if self.policy.read_only:
            raise Unsupported("registry is in read-only mode")

    def require_delete(self) -> None:
        self.require_writable()
        if not self.policy.delete_enabled:
            raise Unsupported("deletes are disabled on this registry")

    def repositories(self, limit: int | None = None, after: str | None = None) -> list[str]:
        """Repository names (directories holding ``_layers`` or ``_manifests``) in distribution's walk
        order — component by component, so ``a/b`` comes before ``a-b`` — strictly after ``after``,
        at most ``limit`` of them. The walk stops as soon as it has them and skips whole subtrees
        that lie before ``after``, so a page costs what it returns, not the size of the registry."""
        found: list[str] = []
        bound = tuple(after.split("/")) if after else None
        try:
            self._collect(paths.repositories_root(), (), bound, limit, found)
        except PathNotFoundError:
            return []
        return found

    def _collect(
        self,
        directory: str,
        parts: tuple[str, ...],
        after: tuple[str, ...] | None,
        limit: int | None,
        found: list[str],
    ) -> bool:
        """Depth-first over ``directory``; True once ``limit`` names are found."""
        names = self.catalog_listings.names(self.driver, directory)
        if parts and not CONTENT_DIRS.isdisjoint(names) and (after is None or parts > after):
            found.append("/".join(parts))
            if limit is not None and len(found) >= limit:
                return True
        for name in names:
            if name.startswith("_"):
                continue
            sub = (*parts, name)
            if after is not None and sub < after[: len(sub)]:
                continue  # everything below sorts before ``after``
            try:
                if self._collect(f"{directory}/{name}", sub, after, limit, found):
                    return True
            except PathNotFoundError:
                continue  # a file, or removed while we walked
        return False
