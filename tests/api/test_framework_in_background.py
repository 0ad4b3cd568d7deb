"""A server worker's framework built in the background (``api.stack.InBackground``): the fast path answers
while it builds, a request that needs it waits for it, its lifespan runs once it is built, and a build that
fails is answered 503 UNAVAILABLE, not a hang."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from registry_impl.api.app import create_framework
from registry_impl.api.context import AppState, PurgeSchedule
from registry_impl.api.stack import InBackground, compose
from registry_impl.storage import paths
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Registry

pytestmark = pytest.mark.anyio

UPLOAD_STATUS = "/v2/a/blobs/uploads/nope"  # upload_status: not a fast operation


class Lifespan:
    """The server's side of the ASGI lifespan protocol."""

    def __init__(self, app: ASGIApp) -> None:
        self.messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.sent: list[str] = []
        self.app = app

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message["type"])

    async def start(self) -> None:
        await self.messages.put({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.messages.get, self.send))
        for _ in range(100):
            if self.sent:
                return
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await self.messages.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(self.task, 10)


def _state(**kwargs: Any) -> AppState:
    return AppState(registry=Registry(InMemoryDriver()), secret=b"s", **kwargs)


async def test_the_fast_path_answers_while_the_framework_builds_and_the_rest_waits_for_it() -> None:
    release, built = threading.Event(), threading.Event()
    state = _state(purge=PurgeSchedule(age=timedelta(days=7), interval=timedelta(hours=1), first_delay=0.0))
    driver = state.registry.driver
    stale = (datetime.now(UTC) - timedelta(days=8)).isoformat().encode()
    driver.put_content(paths.upload_started_at_path("a", "stale"), stale)

    def build() -> ASGIApp:
        release.wait(10)
        app = create_framework(state)
        built.set()
        return app

    app = compose(state, InBackground(build))
    lifespan = Lifespan(app)
    await lifespan.start()
    assert lifespan.sent == ["lifespan.startup.complete"]  # answered while the build waits
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
        assert (await client.get("/v2/")).json() == {}  # the fast path, framework unbuilt
        assert (await client.get("/v2/a/tags/list")).status_code == 404
        waiting = asyncio.create_task(client.get(UPLOAD_STATUS))
        await asyncio.sleep(0.2)
        assert not waiting.done() and not built.is_set()
        assert driver.list(paths.uploads_root("a"))  # nor has the framework's lifespan run
        release.set()
        answer = await asyncio.wait_for(waiting, 10)
        assert answer.status_code == 404 and answer.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
    for _ in range(100):  # the framework's lifespan (upload purging, first pass at once) started once built
        if not driver.list(paths.uploads_root("a")):
            break
        await asyncio.sleep(0.02)
    assert not driver.list(paths.uploads_root("a"))
    await lifespan.stop()
    assert lifespan.sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_a_framework_that_fails_to_build_is_answered_503_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def build() -> ASGIApp:
        raise RuntimeError("broken install")

    app = compose(_state(), InBackground(build))
    lifespan = Lifespan(app)
    with caplog.at_level(logging.ERROR, logger="registry.api"):
        await lifespan.start()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
            for _ in range(2):  # every request that needs it, not only the first
                answer = await asyncio.wait_for(client.get(UPLOAD_STATUS), 10)
                assert answer.status_code == 503
                assert answer.json()["errors"][0]["code"] == "UNAVAILABLE"
            assert (await client.get("/v2/")).status_code == 200  # the fast path still serves
        await lifespan.stop()
    assert lifespan.sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert [r for r in caplog.records if "failed to load" in r.getMessage() and r.exc_info]


async def test_without_a_lifespan_the_first_request_starts_the_build() -> None:
    state = _state()
    app = compose(state, InBackground(lambda: create_framework(state)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
        answer = await asyncio.wait_for(client.get(UPLOAD_STATUS), 10)
    assert answer.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
