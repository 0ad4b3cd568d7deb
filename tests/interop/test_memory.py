"""A running server hands back what an upload freed.

``registry serve`` raises glibc's trim threshold while uploads arrive, so that the PATCHes of a chunked push
reuse the heap rather than fault it in again one after the other (``registry_impl/memory.py``); what the
pushes freed must still go back to the system soon after them: the threshold is lowered and the heap trimmed
when an upload completes, and each worker's trimming thread lowers it after an interval without uploads and
trims. Measured on the worker itself (its anonymous resident memory), on both servers the README offers.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.testkit.processes import Server, Spawner

pytestmark = pytest.mark.interop

MiB = 1 << 20
CHUNK = 8 * MiB
#: Anonymous memory a worker may still hold above its level before the pushes, once they are over. Measured
#: after these pushes: uvicorn 1.1 MiB, granian 5.6-6.6 MiB, for its runtime's allocator (jemalloc, linked into
#: granian) keeps the pages its request bodies freed until it allocates again, ~4 MiB per connection that
#: carried large bodies. With the threshold left raised and nothing trimming, 9.4 and 14.1 MiB.
SLACK = {"uvicorn": 4 * MiB, "granian": 11 * MiB}
#: Concurrent pushes (as docker pushes layers).
PUSHES = 2
#: How soon the worker must be back to that level (the trimming thread runs every 0.5 s).
SETTLE = 3.0


def _worker(server: Server) -> int:
    """The process serving requests: granian's worker, or uvicorn's single process itself."""
    with open(f"/proc/{server.pid}/task/{server.pid}/children") as f:
        children = [int(p) for p in f.read().split()]
    workers = []
    for child in children:
        with open(f"/proc/{child}/cmdline", "rb") as f:
            if b"resource_tracker" not in f.read():
                workers.append(child)
    assert len(workers) <= 1, workers
    return workers[0] if workers else server.pid


def _anonymous(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no RssAnon for {pid}")


def _push_chunked(client: httpx.Client, repository: str, chunks: int, seed: bytes, size: int = CHUNK) -> None:
    """``chunks`` PATCHes of ``size`` bytes, then the PUT that completes the blob."""
    r = client.post(f"/v2/{repository}/blobs/uploads/")
    assert r.status_code == 202, r.text
    location, digest, offset = r.headers["location"], hashlib.sha256(), 0
    for index in range(chunks):
        body = hashlib.sha256(seed + index.to_bytes(4, "big")).digest() * (size // 32)
        r = client.patch(
            location,
            content=body,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(body) - 1}",
            },
        )
        assert r.status_code == 202, r.text
        location, offset = r.headers["location"], offset + len(body)
        digest.update(body)
    separator = "&" if "?" in location else "?"
    r = client.put(f"{location}{separator}digest=sha256:{digest.hexdigest()}")
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_what_a_chunked_push_freed_goes_back_to_the_system(spawn: Spawner, server: str) -> None:
    started = spawn.ours(server=server)
    worker = _worker(started)
    with started.client() as client:
        # The upload path's code, once; small enough to leave no chunk memory behind.
        _push_chunked(client, "memory/warm", 2, b"warm", 64 * 1024)
        time.sleep(SETTLE)
        before = _anonymous(worker)

    def push(index: int) -> None:
        with started.client() as client:
            _push_chunked(client, f"memory/big{index}", 6, b"big%d" % index)

    with ThreadPoolExecutor(PUSHES) as pool:
        list(pool.map(push, range(PUSHES)))
    held = [_anonymous(worker)]
    deadline = time.monotonic() + SETTLE
    while held[-1] > before + SLACK[server] and time.monotonic() < deadline:
        time.sleep(0.1)
        held.append(_anonymous(worker))
    assert held[-1] <= before + SLACK[server], (
        f"the worker still holds {(held[-1] - before) / MiB:.1f} MiB more than before {PUSHES} chunked pushes,"
        f" {SETTLE} s after them (MiB above that level, every 0.1 s: {[round((h - before) / MiB, 1) for h in held]})"
    )
