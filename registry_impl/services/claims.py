"""Storage claims held by the services: wait for a busy claim without blocking the event loop.

A service that needs something another request may hold (an upload session, a tag, a manifest revision)
takes its claim here; while another holder has it, the request polls with growing pauses for up to
``CLAIM_WAIT`` seconds and then gives up with 429 TOOMANYREQUESTS (``Retry-After: 1``). Claims are always
released, even when the client goes away. Claim calls go through the request's ``Offload`` (a thread on
remote storage).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio

from registry_impl.errors import TooManyRequests
from registry_impl.services.offload import Offload
from registry_impl.services.state import State
from registry_impl.storage import paths
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.claims import Claim

__all__ = ["CLAIM_WAIT", "ClaimBusy", "claimed"]

#: Seconds a request waits for a claim another request holds.
CLAIM_WAIT = 5.0
#: Lease lengths where claims are leases (S3): an upload session's claim is renewed while its body streams;
#: a tag's or a revision's is held for one short write, so a holder that died blocks it only briefly.
TTL = {"uploads": 30.0, "tags": 10.0, "manifests": 10.0}
_FIRST_PAUSE, _LONGEST_PAUSE = 0.002, 0.1


class ClaimBusy(TooManyRequests):
    """Another request held the claim for longer than a request waits."""

    def __init__(self, kind: str, name: str, key: str) -> None:
        super().__init__(
            f"another request is using this {kind[:-1]}; retry",
            detail={"name": name, kind[:-1]: key, "reason": "in use by another request"},
        )
        self.headers = {"Retry-After": "1"}


async def _take(
    offload: Offload, driver: StorageDriver, kind: str, name: str, key: str, wait: float
) -> Claim:
    path = paths.claim_path(kind, name, key)
    deadline, pause = time.monotonic() + wait, _FIRST_PAUSE
    while True:
        claim = await offload.storage(driver.try_claim, path, TTL[kind])
        if claim is not None:
            return claim
        if time.monotonic() >= deadline:
            raise ClaimBusy(kind, name, key)
        await anyio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)


@asynccontextmanager
async def claimed(
    state: State, name: str, *keys: tuple[str, str | None], wait: float = CLAIM_WAIT
) -> AsyncIterator[list[Claim]]:
    """Hold the claims ``(kind, key)`` of repository ``name`` in the order given (keys that are None are
    skipped); callers take them in one global order (manifest before tag) so no two requests deadlock."""
    offload, driver = state.offload, state.registry.driver
    async with AsyncExitStack() as stack:
        held: list[Claim] = []
        for kind, key in keys:
            if key is None:
                continue
            claim = await _take(offload, driver, kind, name, key, wait)
            stack.push_async_callback(_release, offload, claim)
            held.append(claim)
        yield held


async def _release(offload: Offload, claim: Claim) -> None:
    await offload.shielded(claim.release)  # a client that went away must not leave the claim held
