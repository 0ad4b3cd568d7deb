"""The blob descriptor cache in Redis, shared by every worker and replica, in distribution's key layout.

Keys (so a Redis shared with distribution stays coherent)::

    blobs::<digest>                       hash: digest, size, mediatype  (registry-wide)
    repository::<name>::blobs             set of digests linked into the repository
    repository::<name>::blobs::<digest>   hash: mediatype  (the repository's own media type)

Redis is a cache, never a dependency: any Redis error is logged (once per outage) and answered as a miss.
Clears that fail are remembered (bounded) and replayed once Redis answers again, so a delete made during
an outage does not leave a stale hit behind when it returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from registry_impl.config import RedisConfig
from registry_impl.storage.cache.base import (
    BlobDescriptorCacheProvider,
    BlobDescriptorService,
    Descriptor,
    validate_descriptor,
    validate_repository,
)

__all__ = ["RedisCache", "blob_key", "repository_blob_key", "repository_set_key"]

log = logging.getLogger("registry.cache.redis")
T = TypeVar("T")
FIELDS = ("digest", "size", "mediatype")
ERRORS = (redis.RedisError, OSError, ValueError)
DEFAULT_PORT = 6379
# go-redis's defaults (distribution 3) where the configuration says 0; a write timeout defaults to the read one.
DEFAULT_DIAL_TIMEOUT = 5.0
DEFAULT_IO_TIMEOUT = 3.0
MAX_PENDING_CLEARS = 10000


def blob_key(digest: str) -> str:
    return f"blobs::{digest}"


def repository_set_key(name: str) -> str:
    return f"repository::{name}::blobs"


def repository_blob_key(name: str, digest: str) -> str:
    return f"repository::{name}::blobs::{digest}"


def _seconds(value: timedelta, default: float) -> float:
    return value.total_seconds() or default


def split_addr(addr: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; the port defaults to 6379) for ``redis.addr``."""
    host, sep, port = addr.rpartition(":")
    if not sep or "]" in port:
        host, port = addr, ""
    return host.strip("[]") or "localhost", int(port) if port else DEFAULT_PORT


def client_from_config(config: RedisConfig) -> redis.Redis:
    """A redis-py client for the ``redis`` section: addr, db, password, timeouts, pool size, TLS."""
    host, port = split_addr(config.addr)
    read_timeout = _seconds(config.readtimeout, DEFAULT_IO_TIMEOUT)
    io_timeout = max(read_timeout, _seconds(config.writetimeout, read_timeout))  # redis-py has one for both
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "db": config.db,
        "username": config.username or None,
        "password": config.password or None,
        "socket_connect_timeout": _seconds(config.dialtimeout, DEFAULT_DIAL_TIMEOUT),
        "socket_timeout": io_timeout,
        "health_check_interval": int(config.pool.idletimeout.total_seconds()),
        "decode_responses": True,
        # One retry on a fresh connection covers a pooled socket Redis closed; no backoff, a cache never waits.
        "retry": Retry(NoBackoff(), 1),
    }
    if config.tls.enabled:
        options["connection_class"] = redis.SSLConnection
        if config.tls.certificate:
            options.update(ssl_certfile=config.tls.certificate, ssl_keyfile=config.tls.key)
        if config.tls.clientcas:  # distribution 3 verifies the server against these
            options["ssl_ca_data"] = "\n".join(Path(path).read_text() for path in config.tls.clientcas)
    pool = redis.ConnectionPool(max_connections=config.pool.maxactive or None, **options)
    return redis.Redis(connection_pool=pool)


def _descriptor(values: list[Any]) -> Descriptor | None:
    digest, size, media_type = values
    if digest is None or size is None:  # distribution's rule: mediatype may be absent
        return None
    return Descriptor(digest, int(size), media_type or "")


class RedisCache(BlobDescriptorCacheProvider):
    """Registry-wide descriptors in ``blobs::<digest>``; see the module docstring for the layout."""

    remote = True

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._healthy = True
        self._pending: dict[tuple[str, ...], None] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: RedisConfig) -> RedisCache:
        return cls(client_from_config(config))

    def close(self) -> None:
        self.client.close()
        self.client.connection_pool.disconnect()

    def stat(self, digest: str) -> Descriptor | None:
        return self._run("stat", lambda: _descriptor(self.client.hmget(blob_key(digest), FIELDS)))

    def set_descriptor(self, digest: str, descriptor: Descriptor) -> None:
        validate_descriptor(digest, descriptor)

        def write() -> None:
            with self.client.pipeline(transaction=True) as pipe:
                self._queue_set(pipe, digest, descriptor)
                pipe.execute()

        self._run("set", write)

    def clear(self, digest: str) -> None:
        self._clear(("global", digest))

    def repository_scoped(self, name: str) -> BlobDescriptorService:
        validate_repository(name)
        return _RepositoryScope(self, name)

    def _queue_set(self, pipe: Any, digest: str, descriptor: Descriptor) -> None:
        """HSET digest and size, HSETNX mediatype (the first media type stays), also under the canonical digest."""
        keys = [digest] if digest == descriptor.digest else [descriptor.digest, digest]
        for key in keys:
            pipe.hset(blob_key(key), mapping={"digest": descriptor.digest, "size": descriptor.size})
            pipe.hsetnx(blob_key(key), "mediatype", descriptor.media_type)

    def _clear(self, what: tuple[str, ...]) -> None:
        self._run("clear", lambda: self._delete(what), failed=what)

    def _delete(self, what: tuple[str, ...]) -> None:
        if what[0] == "global":
            self.client.delete(blob_key(what[1]))
        else:
            name, digest = what[1], what[2]
            with self.client.pipeline(transaction=True) as pipe:
                pipe.srem(repository_set_key(name), digest)
                pipe.delete(repository_blob_key(name, digest))
                pipe.execute()

    def _run(self, op: str, call: Callable[[], T], failed: tuple[str, ...] | None = None) -> T | None:
        """``call()``, or ``None`` after logging when Redis fails; replays pending clears once it answers."""
        try:
            if self._pending:
                self._replay()
            result = call()
        except ERRORS as exc:
            self._down(op, exc, failed)
            return None
        if not self._healthy:
            self._healthy = True
            log.warning("redis blob descriptor cache is reachable again")
        return result

    def _down(self, op: str, exc: Exception, failed: tuple[str, ...] | None) -> None:
        if failed is not None:
            with self._lock:
                if len(self._pending) < MAX_PENDING_CLEARS:
                    self._pending[failed] = None
                else:
                    log.error("redis cache: too many failed clears, dropping %s (entry may go stale)", failed)
        if self._healthy:
            self._healthy = False
            log.error("redis blob descriptor cache unavailable (%s: %s); serving from storage", op, exc)
        else:
            log.debug("redis cache %s failed: %s", op, exc)

    def _replay(self) -> None:
        with self._lock:
            pending = list(self._pending)
        for what in pending:
            self._delete(what)  # raises while Redis is still down: the caller logs it
            with self._lock:
                self._pending.pop(what, None)


class _RepositoryScope(BlobDescriptorService):
    """Membership in ``repository::<name>::blobs``; the descriptor from ``blobs::<digest>``."""

    __slots__ = ("cache", "name", "set_key")

    def __init__(self, cache: RedisCache, name: str) -> None:
        self.cache = cache
        self.name = name
        self.set_key = repository_set_key(name)

    def stat(self, digest: str) -> Descriptor | None:
        def read() -> Descriptor | None:
            with self.cache.client.pipeline(transaction=False) as pipe:
                pipe.sismember(self.set_key, digest)
                pipe.hmget(blob_key(digest), FIELDS)
                pipe.hget(repository_blob_key(self.name, digest), "mediatype")
                member, values, media_type = pipe.execute()
            found = _descriptor(values) if member else None
            if found is not None and media_type:
                return Descriptor(found.digest, found.size, media_type)
            return found

        return self.cache._run("stat", read)

    def set_descriptor(self, digest: str, descriptor: Descriptor) -> None:
        validate_descriptor(digest, descriptor)

        def write() -> None:
            with self.cache.client.pipeline(transaction=True) as pipe:
                pipe.sadd(self.set_key, digest)
                self.cache._queue_set(pipe, digest, descriptor)
                pipe.hset(repository_blob_key(self.name, digest), "mediatype", descriptor.media_type)
                pipe.execute()

        self.cache._run("set", write)

    def clear(self, digest: str) -> None:
        self.cache._clear(("repository", self.name, digest))
