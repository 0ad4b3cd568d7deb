"""The in-process blob descriptor cache: one bounded LRU (``storage.cache.blobdescriptorsize`` entries).

Registry-wide entries are keyed by digest, repository entries by ``(repository, digest)``; both count
towards the bound, as in distribution. A hit is two dict lookups under one lock. The cache is per
process, and a blob unlinked through one worker must not stay visible through another: with
several workers (``scope_repositories=False``) only registry-wide descriptors are kept — blob data
changes only by garbage collection — and repository membership is read from storage every time
(``redis`` shares both scopes between workers and replicas).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from registry_impl.storage.cache.base import (
    BlobDescriptorCacheProvider,
    BlobDescriptorService,
    Descriptor,
    validate_descriptor,
    validate_repository,
)

__all__ = ["DEFAULT_SIZE", "MemoryCache"]

DEFAULT_SIZE = 10000
_Key = str | tuple[str, str]


class MemoryCache(BlobDescriptorCacheProvider):
    """Thread-safe LRU of descriptors; ``size`` 0 or less means unbounded (distribution's rule)."""

    def __init__(self, size: int = DEFAULT_SIZE, *, scope_repositories: bool = True) -> None:
        self.size = max(size, 0)
        self.scope_repositories = scope_repositories
        self._entries: OrderedDict[_Key, Descriptor] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def stat(self, digest: str) -> Descriptor | None:
        with self._lock:
            found = self._entries.get(digest)
            if found is not None:
                self._entries.move_to_end(digest)
            return found

    def set_descriptor(self, digest: str, descriptor: Descriptor) -> None:
        validate_descriptor(digest, descriptor)
        with self._lock:
            self._set_global(digest, descriptor)

    def clear(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def repository_scoped(self, name: str) -> BlobDescriptorService:
        validate_repository(name)
        return _RepositoryScope(self, name)

    # Callers hold the lock.

    def _set_global(self, digest: str, descriptor: Descriptor) -> None:
        if digest != descriptor.digest and descriptor.digest not in self._entries:
            self._put(descriptor.digest, descriptor)
        if digest in self._entries:
            self._entries.move_to_end(digest)  # the first media type stays
        else:
            self._put(digest, descriptor)

    def _put(self, key: _Key, descriptor: Descriptor) -> None:
        entries = self._entries
        entries[key] = descriptor
        entries.move_to_end(key)
        if self.size:
            while len(entries) > self.size:
                entries.popitem(last=False)


class _RepositoryScope(BlobDescriptorService):
    __slots__ = ("cache", "name")

    def __init__(self, cache: MemoryCache, name: str) -> None:
        self.cache = cache
        self.name = name

    def stat(self, digest: str) -> Descriptor | None:
        key = (self.name, digest)
        cache = self.cache
        if not cache.scope_repositories:
            return None
        with cache._lock:
            entries = cache._entries
            found = entries.get(key)
            if found is None or digest not in entries:
                return None
            entries.move_to_end(digest)
            entries.move_to_end(key)
            return found

    def set_descriptor(self, digest: str, descriptor: Descriptor) -> None:
        validate_descriptor(digest, descriptor)
        cache = self.cache
        with cache._lock:
            cache._set_global(digest, descriptor)
            if cache.scope_repositories:
                cache._put((self.name, digest), descriptor)

    def clear(self, digest: str) -> None:
        with self.cache._lock:
            self.cache._entries.pop((self.name, digest), None)
