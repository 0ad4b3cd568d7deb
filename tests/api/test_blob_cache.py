"""The blob descriptor cache behind the API (in-memory and Redis): hits skip storage, deletes invalidate,
data gone behind the cache is 404 not 500, instances sharing Redis see each other's deletes, and a lost
Redis only costs speed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.redis import RedisServer, running_redis
from testkit.registry import Helper, error_codes

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.config import RedisConfig
from registry_impl.storage import paths
from registry_impl.storage.cache.base import BlobDescriptorCacheProvider, Descriptor
from registry_impl.storage.cache.memory import MemoryCache
from registry_impl.storage.cache.redis import RedisCache
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio
DATA = b"cached layer bytes"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


def redis_cache(addr: str) -> RedisCache:
    return RedisCache.from_config(RedisConfig(addr=addr))


@pytest.fixture(params=["inmemory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[BlobDescriptorCacheProvider]:
    if request.param == "inmemory":
        yield MemoryCache()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    cache = redis_cache(server.addr)
    cache.client.flushdb()
    yield cache
    cache.close()


@pytest.fixture
def state(driver: StorageDriver, policy: Policy, cache: BlobDescriptorCacheProvider) -> AppState:
    return AppState(registry=Registry(driver, policy, cache), secret=b"test-secret")


class CountingReads:
    """Counts the driver's ``get_content``/``stat`` calls (a cache hit makes none)."""

    def __init__(self, driver: StorageDriver, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        for name in ("get_content", "stat"):
            original = getattr(driver, name)
            monkeypatch.setattr(driver, name, self._counting(original))

    def _counting(self, original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        return call


async def test_a_hit_reads_nothing_from_storage(
    client: httpx.AsyncClient, push: Helper, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = await push.blob("a/b", DATA)
    assert (await client.head(f"/v2/a/b/blobs/{digest}")).status_code == 200
    reads = CountingReads(state.registry.driver, monkeypatch)
    r = await client.head(f"/v2/a/b/blobs/{digest}")
    assert r.status_code == 200
    assert r.headers["content-length"] == str(len(DATA))
    assert reads.calls == 0


async def test_blob_delete_invalidates(client: httpx.AsyncClient, push: Helper, state: AppState) -> None:
    digest = await push.blob("a/b", DATA)
    await push.blob("other", DATA)
    for name in ("a/b", "other"):
        assert (await client.head(f"/v2/{name}/blobs/{digest}")).status_code == 200
    assert state.registry.blob_cache.repository_scoped("a/b").stat(digest) is not None
    assert (await client.delete(f"/v2/a/b/blobs/{digest}")).status_code == 202
    assert state.registry.blob_cache.repository_scoped("a/b").stat(digest) is None
    assert (await client.head(f"/v2/a/b/blobs/{digest}")).status_code == 404
    r = await client.get(f"/v2/a/b/blobs/{digest}")
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UNKNOWN"]
    r = await client.get(f"/v2/other/blobs/{digest}")  # still linked there
    assert (r.status_code, r.content) == (200, DATA)


@pytest.mark.parametrize("headers", [{}, {"Range": "bytes=2-5"}])
async def test_data_gone_behind_the_cache_is_blob_unknown(
    client: httpx.AsyncClient, push: Helper, state: AppState, headers: dict[str, str]
) -> None:
    digest = await push.blob("a/b", DATA)
    await push.blob("c", DATA)
    assert (await client.head(f"/v2/a/b/blobs/{digest}")).status_code == 200
    assert (await client.head(f"/v2/c/blobs/{digest}")).status_code == 200
    state.registry.driver.delete(
        paths.blob_path(digest)
    )  # not through the registry: the cache still says yes
    r = await client.get(f"/v2/a/b/blobs/{digest}", headers=headers)
    assert r.status_code == 404, r.text
    assert error_codes(r) == ["BLOB_UNKNOWN"]
    assert state.registry.blob_cache.stat(digest) is None
    for name in ("a/b", "c"):  # cleared registry-wide: no repository keeps a stale hit
        assert (await client.head(f"/v2/{name}/blobs/{digest}")).status_code == 404


async def test_reupload_after_data_loss_restores_the_data(
    client: httpx.AsyncClient, push: Helper, state: AppState
) -> None:
    digest = await push.blob("a/b", DATA)
    assert (await client.head(f"/v2/a/b/blobs/{digest}")).status_code == 200
    state.registry.driver.delete(paths.blob_path(digest))
    await push.blob("a/b", DATA)  # the write path asks storage, not the cache
    r = await client.get(f"/v2/a/b/blobs/{digest}")
    assert (r.status_code, r.content) == (200, DATA)


async def test_manifest_delete_clears_distribution_style_membership(
    client: httpx.AsyncClient, push: Helper, state: AppState
) -> None:
    image = await push.image("a/b", tag=None)
    scope = state.registry.blob_cache.repository_scoped("a/b")
    as_distribution_does = Descriptor(image.digest, len(image.content), image.media_type)
    scope.set_descriptor(image.digest, as_distribution_does)
    assert (await client.delete(f"/v2/a/b/manifests/{image.digest}")).status_code == 202
    assert scope.stat(image.digest) is None


# ---- Redis only: sharing and outages ----


async def asgi_client(state: AppState) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state)), base_url="http://b.test")


@pytest.fixture
async def second(
    driver: StorageDriver, policy: Policy, redis_server: RedisServer
) -> AsyncIterator[httpx.AsyncClient]:
    """Another registry process on the same storage and the same Redis (its own client and pool)."""
    cache = redis_cache(redis_server.addr)
    async with await asgi_client(AppState(registry=Registry(driver, policy, cache), secret=b"s")) as c:
        yield c
    cache.close()


@pytest.mark.parametrize("cache", ["redis"], indirect=True)
async def test_instances_sharing_redis_see_each_others_deletes(
    client: httpx.AsyncClient, push: Helper, second: httpx.AsyncClient
) -> None:
    digest = await push.blob("a/b", DATA)
    assert (await second.head(f"/v2/a/b/blobs/{digest}")).status_code == 200  # filled by the second
    assert (await client.head(f"/v2/a/b/blobs/{digest}")).status_code == 200  # a hit for the first
    assert (await client.delete(f"/v2/a/b/blobs/{digest}")).status_code == 202
    assert (await second.head(f"/v2/a/b/blobs/{digest}")).status_code == 404
    assert (await second.get(f"/v2/a/b/blobs/{digest}")).status_code == 404


async def test_lost_redis_degrades_to_storage(
    driver: StorageDriver, policy: Policy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_redis(tmp_path / "redis") as server:
        cache = redis_cache(server.addr)
    async with await asgi_client(AppState(registry=Registry(driver, policy, cache), secret=b"s")) as c:
        push = Helper(c)
        digest = await push.blob("a/b", DATA)
        image = await push.image("a/b")
        for _ in range(2):
            r = await c.get(f"/v2/a/b/blobs/{digest}")
            assert (r.status_code, r.content) == (200, DATA)
            assert (await c.head(f"/v2/a/b/manifests/{image.digest}")).status_code == 200
        assert (await c.delete(f"/v2/a/b/blobs/{digest}")).status_code == 202
        assert (await c.head(f"/v2/a/b/blobs/{digest}")).status_code == 404
    assert any("redis blob descriptor cache unavailable" in r.message for r in caplog.records)
    cache.close()
