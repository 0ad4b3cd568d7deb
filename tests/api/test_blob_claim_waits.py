"""A blob claim another holder has exclusively (online GC; on S3, whose leases have one holder, also another
writer) is waited for off the event loop: a manifest PUT or a mount that meets one goes on in a worker thread,
and the event loop keeps serving meanwhile. Before, the storage call ran inline and slept on the loop while
polling. Writers share the claim where the storage can: one never waits for another."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from testkit.loopwatch import while_ticking
from testkit.registry import OCI_MANIFEST, Helper, sha256

from registry_impl.api.context import AppState
from registry_impl.storage import paths

pytestmark = pytest.mark.anyio
HELD = 0.4  # seconds the other holder keeps the claim


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
    response, longest_gap = await while_ticking(request)
    assert response.status_code == 201, response.text
    assert time.monotonic() - started >= HELD * 0.9  # it did wait for the claim
    assert longest_gap < HELD / 4, longest_gap  # and the event loop went on meanwhile


async def test_a_writer_holding_the_blob_claims_does_not_hold_up_another(
    client: httpx.AsyncClient, state: AppState
) -> None:
    """Writers share blob claims (they only keep online GC out): a manifest PUT naming a layer goes through
    while another writer (a PUT in another worker, a mount) holds that layer's claim. With exclusive claims
    it waited for the holder, here until it gave up (429)."""
    pushed = await Helper(client).image("org/app", "v1")
    layer = sha256(b"layer-0-")
    other = json.dumps({**json.loads(pushed.content), "annotations": {"a": "b"}}).encode()
    held = state.registry.driver.try_claim(paths.blob_claim_path(layer), 15.0, shared=True)
    assert held is not None
    try:
        headers = {"Content-Type": OCI_MANIFEST}
        response = await client.put("/v2/org/app/manifests/v2", content=other, headers=headers)
    finally:
        held.release()
    assert response.status_code == 201, response.text
