"""One in-process app per test module, re-pointed at each test's fresh state.

Building the app (connexion parses and validates the whole specification) costs ~0.2-0.4 s, more
than most API tests. A module that imports ``shared_app`` and ``shared_client`` (the ``client`` fixture) from here builds it once and, before each
test, copies that test's ``state`` (fresh registry, driver and policy from ``tests/api/conftest.py``)
into the state object the app holds. Handlers read the state per request, so every test still sees
only its own registry; what ``create_app`` reads once (``extra_headers``) keeps the default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import ASGIApp

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Registry

BASE_URL = "http://registry.test"


@pytest.fixture(scope="module")
def shared_app() -> tuple[ASGIApp, AppState]:
    holder = AppState(registry=Registry(InMemoryDriver()), secret=b"placeholder")
    return create_app(holder, validate_responses=True), holder


@pytest.fixture(name="client")
async def shared_client(
    shared_app: tuple[ASGIApp, AppState], state: AppState
) -> AsyncIterator[httpx.AsyncClient]:
    app, holder = shared_app
    for field in dataclasses.fields(AppState):
        setattr(holder, field.name, getattr(state, field.name))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c:
        yield c
