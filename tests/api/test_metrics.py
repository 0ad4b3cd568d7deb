"""Metrics and the health gate in process: what a request, an upload, a pull and a cache lookup add to
``prometheus_client``'s registry once the tally is flushed; the gate's 503 envelope and its recovery."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.responses import PlainTextResponse

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.api.errors import unavailable
from registry_impl.observability import metrics
from registry_impl.observability.health import Check, HealthChecks, HealthGate
from registry_impl.storage.cache.base import NoCache
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.registry import Registry

pytestmark = pytest.mark.anyio


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    state = AppState(registry=Registry(FilesystemDriver(str(tmp_path))), secret=b"s")
    metrics.instrument_driver(state.registry.driver, "filesystem")
    metrics.instrument_cache(state.registry.blob_cache)
    app = metrics.RequestMetrics(create_app(state))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r.test") as c:
        yield c


async def test_requests_uploads_pulls_and_cache_lookups_are_counted(client: httpx.AsyncClient) -> None:
    blob = b"counted bytes" * 100
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    names = [
        ("registry_http_requests_total", {"code": "202", "handler": "start_upload", "method": "POST"}),
        ("registry_http_requests_total", {"code": "201", "handler": "complete_upload", "method": "PUT"}),
        ("registry_http_requests_total", {"code": "200", "handler": "get_blob", "method": "GET"}),
        ("registry_http_requests_total", {"code": "404", "handler": "other", "method": "GET"}),
        ("registry_uploads_total", {"event": "started"}),
        ("registry_uploads_total", {"event": "completed"}),
        ("registry_storage_bytes_pushed_total", {}),
        ("registry_storage_bytes_pulled_total", {}),
        ("registry_storage_cache_total", {"type": "Hit"}),
        ("registry_storage_cache_total", {"type": "Miss"}),
        ("registry_http_request_duration_seconds_count", {"handler": "get_blob", "method": "GET"}),
    ]
    before = [value(name, **labels) for name, labels in names]

    started = await client.post("/v2/m/repo/blobs/uploads/")
    assert started.status_code == 202
    done = await client.put(started.headers["Location"], params={"digest": digest}, content=blob)
    assert done.status_code == 201, done.text
    for _ in range(2):
        assert (await client.get(f"/v2/m/repo/blobs/{digest}")).content == blob
    assert (await client.get("/nowhere")).status_code == 404
    metrics.tally().flush()

    after = [value(name, **labels) for name, labels in names]
    delta = {f"{name}{labels}": a - b for (name, labels), a, b in zip(names, after, before, strict=True)}
    hits, misses = (
        delta.pop("registry_storage_cache_total{'type': 'Hit'}"),
        delta.pop("registry_storage_cache_total{'type': 'Miss'}"),
    )
    assert list(delta.values()) == [1, 1, 2, 1, 1, 1, len(blob), 2 * len(blob), 2], delta
    assert hits >= 1 and misses >= 1  # the second pull is answered from the cache
    assert value("registry_storage_action_seconds_count", driver="filesystem", action="put_content") > 0


def test_gc_runs_are_counted() -> None:
    runs, deleted = value("registry_gc_runs_total", mode="online"), value("registry_gc_blobs_deleted_total")
    metrics.gc_run("online", 3)
    assert value("registry_gc_runs_total", mode="online") == runs + 1
    assert value("registry_gc_blobs_deleted_total") == deleted + 3


async def test_the_health_gate_answers_503_while_a_check_fails_and_recovers() -> None:
    broken = {"now": True}

    def probe() -> None:
        if broken["now"]:
            raise RuntimeError("disk on fire")

    check = Check("probe", probe, interval=60, threshold=2)
    checks = HealthChecks([check])

    gate = HealthGate(PlainTextResponse("ok"), checks, unavailable)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://r.test") as c:
        check.run_once()  # one failure: under the threshold
        assert (await c.get("/v2/")).status_code == 200
        check.run_once()
        r = await c.get("/v2/")
        assert r.status_code == 503
        error = r.json()["errors"][0]
        assert (
            error["code"] == "UNAVAILABLE" and error["detail"]["checks"]["probe"]["error"] == "disk on fire"
        )
        broken["now"] = False
        check.run_once()
        assert (await c.get("/v2/")).status_code == 200
        assert checks.status() == {}


def test_counting_a_shared_scoped_cache_service_leaves_it_alone() -> None:
    cache = metrics.instrument_cache(NoCache())
    shared = NoCache.repository_scoped(cache, "a/b")  # the one service NoCache hands to every repository
    before = shared.stat
    for _ in range(3):
        assert cache.repository_scoped("a/b").stat("sha256:" + "0" * 64) is None
    assert shared.stat == before  # no wrapper gathered per request
