"""A blob claim another holder has (online GC, an upload completing onto the blob, a PUT in another worker) is
waited for off the event loop: a manifest PUT or a mount that meets one goes on in a worker thread, and the
event loop keeps serving meanwhile. Before, the storage call ran inline and slept on the loop while polling."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest
from testkit.registry import OCI_MANIFEST, Helper, sha256

from registry_impl.api.context import AppState
from registry_impl.storage import paths

pytestmark = pytest.mark.anyio
HELD = 0.4  # seconds the other holder keeps the claim


async def _while_ticking(request: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, float]:
    """The response, and the longest the event loop went without running a 5 ms ticker meanwhile."""
    ticks = [time.monotonic()]
    done = anyio.Event()

    async def tick() -> None:
        while not done.is_set():
            await anyio.sleep(0.005)
            ticks.append(time.monotonic())

    async with anyio.create_task_group() as group:
        group.start_soon(tick)
        response = await request()
        ticks.append(time.monotonic())  # a loop blocked throughout: one gap, the whole request
        done.set()
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    return response, max(gaps)


@pytest.mark.parametrize("operation", ["manifest-put", "mount"])
async def test_a_busy_blob_claim_is_waited_for_off_the_event_loop(
    client: httpx.AsyncClient, state: AppState, operation: str
) -> None:
    pushed = await Helper(client).image("org/app", "v1")
    layer = sha256(b"layer-0-")
    other = json.dumps({**json.loads(pushed.content), "annotations": {"a": "b"}}).encode()
    held = state.registry.driver.try_claim(paths.blob_claim_path(layer), 15.0)
    assert held is not None
    threading.Timer(HELD, held.release).start()

    async def request() -> httpx.Response:
        if operation == "manifest-put":
            headers = {"Content-Type": OCI_MANIFEST}
            return await client.put("/v2/org/app/manifests/v2", content=other, headers=headers)
        return await client.post("/v2/org/copy/blobs/uploads/", params={"mount": layer, "from": "org/app"})

    started = time.monotonic()
    response, longest_gap = await _while_ticking(request)
    assert response.status_code == 201, response.text
    assert time.monotonic() - started >= HELD * 0.9  # it did wait for the claim
    assert longest_gap < HELD / 4, longest_gap  # and the event loop went on meanwhile
