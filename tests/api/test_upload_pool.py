"""On local storage an upload's body is acknowledged without a thread of the offload pool: the event loop
awaits the upload's own writing thread (it calls back once the last chunk is written), and what the close
does after it (flush, the hash state) is quick, so it runs inline where it does not sync to a disk. Before,
the close waited for the writing thread from a thread of the pool: a pool busy with slow work (re-hashes,
referrer lists, a stalled storage call) held every PATCH back."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import anyio
import anyio.to_thread
import httpx
import pytest

from registry_impl.api.context import AppState
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.hashpipe import THREAD_THRESHOLD

pytestmark = pytest.mark.anyio


@pytest.fixture
def driver(tmp_path: Path) -> StorageDriver:
    return FilesystemDriver(rootdirectory=str(tmp_path / "data"), fsync=True)  # on tmpfs or not: see below


@pytest.fixture
def fast_path() -> bool:
    return True  # the framework path calls the same service


async def test_chunks_are_acknowledged_while_every_pool_thread_is_busy(
    client: httpx.AsyncClient, state: AppState
) -> None:
    state.offload.threads = 1  # before its first use: the pool's one thread
    state.offload.synced = False  # a sync that costs nothing (tmpfs); where it waits, the close is threaded
    busy, release = threading.Event(), threading.Event()

    def hold() -> None:
        busy.set()
        release.wait(30)

    chunks = [os.urandom(4 * THREAD_THRESHOLD) for _ in range(3)]  # each large enough for the writing thread
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(state.offload.slow, hold)
            await anyio.to_thread.run_sync(busy.wait)
            started = await client.post("/v2/org/app/blobs/uploads/")
            assert started.status_code == 202, started.text
            location, offset = started.headers["Location"], 0
            began = time.monotonic()
            for chunk in chunks:
                end = offset + len(chunk) - 1
                answer = await client.patch(
                    location,
                    content=chunk,
                    headers={"Content-Range": f"{offset}-{end}", "Content-Type": "application/octet-stream"},
                )
                assert answer.status_code == 202, answer.text
                assert answer.headers["Range"] == f"0-{end}"
                location, offset = answer.headers["Location"], end + 1
            # the pool's thread is held for 30 s: a PATCH that waited for it would take that long
            assert time.monotonic() - began < 5
            release.set()
    finally:
        release.set()
    body = b"".join(chunks)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    separator = "&" if "?" in location else "?"
    done = await client.put(f"{location}{separator}digest={digest}")
    assert done.status_code == 201, done.text
    assert (await client.get(f"/v2/org/app/blobs/{digest}")).content == body
