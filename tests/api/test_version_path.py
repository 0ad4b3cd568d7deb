"""``GET /v2`` without the trailing slash: answered as the version check, as distribution does (no redirect)."""

from __future__ import annotations

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.api.prefix import PathPrefix
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_v2_without_slash_is_the_version_check(client: httpx.AsyncClient, method: str) -> None:
    r = await client.request(method, "/v2")
    assert r.status_code == 200, r.text
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert "Location" not in r.headers


async def test_only_the_bare_version_path_is_aliased(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v2x")).status_code == 404
    assert (await client.get("/v2/_catalog")).status_code == 200


async def test_v2_without_slash_under_a_path_prefix() -> None:
    state = AppState(registry=Registry(InMemoryDriver(), Policy()), secret=b"s")
    app = PathPrefix(create_app(state), "/my/registry")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r.test") as c:
        r = await c.get("/my/registry/v2")
        assert r.status_code == 200, r.text
