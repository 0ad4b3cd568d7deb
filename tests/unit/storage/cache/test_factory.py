"""``storage.cache.blobdescriptor`` picks the cache: inmemory (sized), redis (from the redis section), none."""

from __future__ import annotations

import pytest

from registry_impl.config import CacheConfig, Config, ConfigError, RedisConfig, parse_config
from registry_impl.server import build_state
from registry_impl.storage.cache import factory
from registry_impl.storage.cache.base import NoCache
from registry_impl.storage.cache.memory import MemoryCache
from registry_impl.storage.cache.redis import RedisCache

BASE = "version: 0.1\nstorage:\n  inmemory: {}\n"


def config(extra: str = "", environ: dict[str, str] | None = None) -> Config:
    return parse_config(BASE + extra, environ or {})


def test_inmemory_with_its_size() -> None:
    cache = build_state(
        config("  cache:\n    blobdescriptor: inmemory\n    blobdescriptorsize: 5\n")
    ).registry
    assert isinstance(cache.blob_cache, MemoryCache)
    assert cache.blob_cache.size == 5


def test_none_configured_is_no_cache() -> None:
    assert isinstance(build_state(config()).registry.blob_cache, NoCache)


def test_redis_from_the_redis_section_and_environment() -> None:
    text = "  cache:\n    blobdescriptor: redis\nredis:\n  addr: cache.local:6380\n  db: 2\n"
    text += "  dialtimeout: 100ms\n  readtimeout: 2s\n  pool:\n    maxactive: 7\n"
    cfg = config(text, {"REGISTRY_REDIS_PASSWORD": "pw"})
    cache = factory.create(cfg.storage.cache, cfg.redis)
    assert isinstance(cache, RedisCache)
    pool = cache.client.connection_pool
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == (
        "cache.local",
        6380,
        2,
        "pw",
    )
    assert (kwargs["socket_connect_timeout"], kwargs["socket_timeout"]) == (0.1, 2.0)
    assert pool.max_connections == 7
    cache.close()  # nothing was connected: building the client does no I/O


def test_redis_without_addr_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^storage\.cache\.blobdescriptor: "):
        config("  cache:\n    blobdescriptor: redis\n")
    with pytest.raises(ConfigError, match=r"^storage\.cache\.blobdescriptor: "):
        factory.create(CacheConfig("redis"), RedisConfig())  # built in code, not parsed
