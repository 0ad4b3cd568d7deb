"""Several workers, each with its own in-memory cache: an unlink in one is seen by the others at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_impl.config import CacheConfig, RedisConfig
from registry_impl.errors import BlobUnknown
from registry_impl.storage.cache import factory
from registry_impl.storage.cache.base import Descriptor
from registry_impl.storage.cache.memory import MemoryCache
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.registry import Registry


def _worker(root: Path) -> Registry:
    cache = factory.create(CacheConfig(blobdescriptor="inmemory"), RedisConfig(), workers=2)
    return Registry(FilesystemDriver(rootdirectory=str(root), fsync=False), cache=cache)


def test_unlink_in_one_worker_is_seen_by_another(tmp_path: Path) -> None:
    a, b = _worker(tmp_path), _worker(tmp_path)
    digest = a.blobs.put(b"layer")
    a.repository("app").blobs.link(digest)
    assert b.repository("app").blobs.stat(digest).size == 5  # warms b's cache
    a.repository("app").blobs.delete(digest)
    with pytest.raises(BlobUnknown):
        b.repository("app").blobs.stat(digest)


def test_registry_wide_descriptors_are_still_cached() -> None:
    cache = MemoryCache(scope_repositories=False)
    descriptor = Descriptor("sha256:" + "a" * 64, 3, "application/octet-stream")
    cache.repository_scoped("app").set_descriptor(descriptor.digest, descriptor)
    assert cache.stat(descriptor.digest) == descriptor
    assert cache.repository_scoped("app").stat(descriptor.digest) is None


def test_one_worker_keeps_repository_scope() -> None:
    cache = factory.create(CacheConfig(blobdescriptor="inmemory"), RedisConfig(), workers=1)
    assert isinstance(cache, MemoryCache) and cache.scope_repositories
