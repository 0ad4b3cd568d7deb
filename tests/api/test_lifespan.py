"""The application's lifespan runs upload purging on its schedule, and a production app (no spec
re-validation, fast reads) answers like the checked one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState, PurgeSchedule
from registry_impl.storage import paths
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Registry

pytestmark = pytest.mark.anyio


async def _run_lifespan(app: Any, seconds: float) -> None:
    """Drive the ASGI lifespan protocol: startup, wait, shutdown."""
    messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, str]:
        return await messages.get()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await messages.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    await asyncio.sleep(seconds)
    await messages.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, 5)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_lifespan_purges_old_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    from registry_impl.api import maintenance

    released: list[bool] = []  # the pass's leftovers handed back after it, once the stale upload is gone
    monkeypatch.setattr(
        maintenance,
        "release_after_walk",
        lambda: released.append(paths.upload_root("a", "stale") not in driver.list(paths.uploads_root("a"))),
    )
    driver = InMemoryDriver()
    old = (datetime.now(UTC) - timedelta(days=8)).isoformat()
    driver.put_content(paths.upload_started_at_path("a", "stale"), old.encode())
    driver.put_content(paths.upload_data_path("a", "stale"), b"partial")
    fresh = Registry(driver).repository("a").uploads.start()
    schedule = PurgeSchedule(age=timedelta(days=7), interval=timedelta(hours=1), first_delay=0.0)
    app = create_app(AppState(registry=Registry(driver), secret=b"s", purge=schedule))
    await _run_lifespan(app, 0.3)
    assert paths.upload_root("a", "stale").rsplit("/", 1)[1] not in [
        p.rsplit("/", 1)[1] for p in driver.list(paths.uploads_root("a"))
    ]
    assert Registry(driver).repository("a").uploads.status(fresh.uuid).size == 0
    assert released == [True]


async def test_the_purge_pass_sweeps_what_killed_writes_left_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    driver = FilesystemDriver(tmp_path, fsync=False)
    fresh = Registry(driver).repository("a").uploads.start()
    stage = tmp_path / "docker/registry/v2/repositories/a/_uploads/.~tmp-2456ee634c1a1702"
    (stage / "u").mkdir(parents=True)
    later = time.time() + 2 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    schedule = PurgeSchedule(age=timedelta(days=7), interval=timedelta(hours=1), first_delay=0.0)
    await _run_lifespan(create_app(AppState(registry=Registry(driver), secret=b"s", purge=schedule)), 0.3)
    assert not stage.exists()
    assert Registry(driver).repository("a").uploads.status(fresh.uuid).size == 0


async def test_production_app_answers_like_the_checked_one() -> None:
    state = AppState(registry=Registry(InMemoryDriver()), secret=b"s")
    for app in (create_app(state), create_app(state, check_spec=False)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
            assert (await client.get("/v2/")).json() == {}
            r = await client.get("/v2/Bad/tags/list")
            assert r.status_code == 400 and r.json()["errors"][0]["code"] == "NAME_INVALID"
