"""The in-process registry (both local drivers) behind an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from testkit.registry import Helper

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry


@pytest.fixture(params=["inmemory", "filesystem"])
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> StorageDriver:
    if request.param == "inmemory":
        return InMemoryDriver()
    return FilesystemDriver(rootdirectory=str(tmp_path / "data"), fsync=False)


@pytest.fixture
def policy() -> Policy:
    return Policy(delete_enabled=True, read_only=False)


@pytest.fixture
def state(driver: StorageDriver, policy: Policy) -> AppState:
    return AppState(registry=Registry(driver, policy), secret=b"test-secret", max_tags=0, max_catalog=1000)


@pytest.fixture(params=[True, False], ids=["fast", "framework"])
def fast_path(request: pytest.FixtureRequest) -> bool:
    """Both request paths: the operations the descriptor marks ``fast`` served by the fast path, or all
    by the framework (whose answers, the fast path's excepted, are response-validated)."""
    return bool(request.param)


@pytest.fixture
async def client(state: AppState, fast_path: bool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state, validate_responses=True, fast_path=fast_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
        yield c


@pytest.fixture
def push(client: httpx.AsyncClient) -> Helper:
    return Helper(client)
