"""Storage claims held by the services: wait for a busy claim without blocking the event loop.

A service that needs something another request may hold (an upload session, a tag, a manifest revision)
takes its claim here; while another holder has it, the request polls with growing pauses for up to
``CLAIM_WAIT`` seconds and then gives up with 429 TOOMANYREQUESTS (``Retry-After: 1``). Claims are always
released, even when the client goes away. Claim calls go through the request's ``Offload`` (a thread on
remote storage).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio

from registry_impl.errors import TooManyRequests
from registry_impl.services.offload import Offload
from registry_impl.services.state import State
from registry_impl.storage import paths
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.claims import Claim, ClaimLost

__all__ = ["CLAIM_WAIT", "ClaimBusy", "claimed"]

log = logging.getLogger("registry.claims")

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
        leases = [claim for claim in held if claim.ttl]
        if leases:  # S3: renewed while the request holds them, however long its client pauses
            keeper = asyncio.create_task(_keep_alive(offload, leases))
            stack.callback(keeper.cancel)
        yield held


async def _keep_alive(offload: Offload, leases: list[Claim]) -> None:
    """Renew ``leases`` every sixth of the shortest lease (a renewal is due after a third), until cancelled.

    A body may pause longer than a lease lasts (``http.limits.bodytimeout`` allows 60 s): renewed only as
    data arrived, an upload's lease expired under a paused PATCH, another replica took the session over and
    acknowledged a chunk, and the paused writer, resuming, overwrote it. A lease found lost is marked
    released (``renew`` then raises :class:`ClaimLost`), so its holder stops before writing again."""
    period = min(lease.ttl or CLAIM_WAIT for lease in leases) / 6
    while True:
        await anyio.sleep(period)
        for lease in leases:
            if lease.released:
                continue
            try:
                await offload.storage(lease.renew)
            except ClaimLost:  # taken over (its holder stops at its next renewal), or released meanwhile
                log.info("claim %s is no longer held", lease.path)
            except Exception:  # the storage unreachable for now: the next round tries again
                log.warning("renewing claim %s failed", lease.path, exc_info=True)


async def _release(offload: Offload, claim: Claim) -> None:
    await offload.shielded(claim.release)  # a client that went away must not leave the claim held
