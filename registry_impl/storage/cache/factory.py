"""The blob descriptor cache named by ``storage.cache.blobdescriptor``: ``inmemory``, ``redis`` or none."""

from __future__ import annotations

from registry_impl.config import CacheConfig, ConfigError, RedisConfig
from registry_impl.storage.cache.base import BlobDescriptorCacheProvider, NoCache
from registry_impl.storage.cache.memory import MemoryCache

__all__ = ["create"]


def create(cache: CacheConfig, redis: RedisConfig, *, workers: int = 1) -> BlobDescriptorCacheProvider:
    """The configured cache; ``redis`` needs ``redis.addr`` (redis-py is imported only then).

    With several worker processes an in-memory cache keeps registry-wide descriptors only, so a
    blob unlinked through one worker is never served by another (see ``MemoryCache``).
    """
    if cache.blobdescriptor == "inmemory":
        return MemoryCache(cache.blobdescriptorsize, scope_repositories=workers <= 1)
    if cache.blobdescriptor == "redis":
        if not redis.enabled:
            raise ConfigError("storage.cache.blobdescriptor", "redis needs the redis section (redis.addr)")
        from registry_impl.storage.cache.redis import RedisCache

        return RedisCache.from_config(redis)
    return NoCache()
