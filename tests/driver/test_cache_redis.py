"""The Redis blob descriptor cache against a real redis-server: the shared suite, keys, and outages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.redis import RedisServer, running_redis, start_redis

from registry_impl.config import RedisConfig
from registry_impl.storage.cache.base import Descriptor
from registry_impl.storage.cache.conformance import CacheConformance, random_digest
from registry_impl.storage.cache.redis import RedisCache, split_addr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as running:
        yield running


def redis_cache(server: RedisServer, **overrides: object) -> RedisCache:
    return RedisCache.from_config(RedisConfig(addr=server.addr, **overrides))  # type: ignore[arg-type]


class TestRedisCache(CacheConformance):
    @pytest.fixture
    def cache(self, server: RedisServer) -> Iterator[RedisCache]:
        cache = redis_cache(server)
        cache.client.flushdb()
        yield cache
        cache.close()

    @pytest.fixture
    def peer(self, server: RedisServer) -> Iterator[RedisCache]:
        peer = redis_cache(server)  # its own pool: another process, as far as Redis can tell
        yield peer
        peer.close()


def test_distribution_key_layout(server: RedisServer) -> None:
    cache = redis_cache(server, db=3)
    digest = random_digest()
    cache.repository_scoped("foo/bar").set_descriptor(digest, Descriptor(digest, 42, "application/json"))
    raw = server.client(db=3)
    assert raw.hgetall(f"blobs::{digest}") == {
        "digest": digest,
        "size": "42",
        "mediatype": "application/json",
    }
    assert raw.smembers("repository::foo/bar::blobs") == {digest}
    assert raw.hgetall(f"repository::foo/bar::blobs::{digest}") == {"mediatype": "application/json"}
    assert server.client(db=0).exists(f"blobs::{digest}") == 0  # redis.db is honoured
    cache.close()


def test_reads_what_distribution_wrote(server: RedisServer) -> None:
    digest = random_digest()
    raw = server.client()
    raw.hset(f"blobs::{digest}", mapping={"digest": digest, "size": "7"})  # no mediatype: still a hit
    raw.sadd("repository::lib/x::blobs", digest)
    cache = redis_cache(server)
    assert cache.stat(digest) == Descriptor(digest, 7, "")
    assert cache.repository_scoped("lib/x").stat(digest) == Descriptor(digest, 7, "")
    raw.hdel(f"blobs::{digest}", "digest")  # what distribution's Clear leaves: a miss
    assert cache.repository_scoped("lib/x").stat(digest) is None
    cache.close()


def test_password_and_timeouts_are_passed(server: RedisServer) -> None:
    cache = redis_cache(server, password="secret", dialtimeout=timedelta(milliseconds=250))
    kwargs = cache.client.connection_pool.connection_kwargs
    assert kwargs["password"] == "secret"
    assert kwargs["socket_connect_timeout"] == 0.25
    assert cache.stat(random_digest()) is None  # the server wants no password: an error, so a miss
    cache.close()


@pytest.mark.parametrize(
    ("addr", "expected"),
    [("redis:6380", ("redis", 6380)), ("10.0.0.1", ("10.0.0.1", 6379)), ("[::1]:7000", ("::1", 7000))],
)
def test_split_addr(addr: str, expected: tuple[str, int]) -> None:
    assert split_addr(addr) == expected


def test_outage_is_a_miss_and_clears_are_replayed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = start_redis(tmp_path)
    try:
        cache = redis_cache(server)
        scope = cache.repository_scoped("r")
        digest = random_digest()
        scope.set_descriptor(digest, Descriptor(digest, 1))
        server.stop()
        with caplog.at_level(logging.ERROR, logger="registry.cache.redis"):
            assert scope.stat(digest) is None
            scope.clear(digest)  # lost for now: remembered
            cache.set_descriptor(digest, Descriptor(digest, 1))
        assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1  # logged once
        server = start_redis(tmp_path, port=server.port)  # back, with the old entry (as after a failover)
        server.client().sadd("repository::r::blobs", digest)
        server.client().hset(f"blobs::{digest}", mapping={"digest": digest, "size": 1})
        assert scope.stat(digest) is None  # the clear was replayed first
        assert cache.stat(digest) is not None
    finally:
        server.stop()


def test_distribution_3_keys_reach_the_client(server: RedisServer) -> None:
    """``addrs`` (one address), ``poolsize`` and ``username`` as distribution 3 writes them."""
    from registry_impl.config import parse_config

    text = f"version: 0.1\nstorage: inmemory\nredis: {{addrs: ['{server.addr}'], poolsize: 3, username: default}}\n"
    config = parse_config(text, {}).redis
    assert (config.addr, config.pool.maxactive, config.username) == (server.addr, 3, "default")
    cache = RedisCache.from_config(config)
    try:
        kwargs = cache.client.connection_pool.connection_kwargs
        assert kwargs["username"] == "default" and cache.client.connection_pool.max_connections == 3
        assert cache.client.ping()
    finally:
        cache.close()
