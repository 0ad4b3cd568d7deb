"""The sender of one endpoint: delivers its outbox in order, retries with distribution's threshold and backoff.

Every worker of every replica runs one sender per endpoint; only the one holding the endpoint's storage
claim (``Outbox.claim_path``) delivers, so each envelope is POSTed once in normal operation. An entry is
removed only after the endpoint answered 2xx: a holder that dies between that answer and the removal
leaves the entry for the next holder, which sends it again (at least once across crashes; receivers
dedupe on the event ``id``). The holder keeps the claim while it runs, renewing it on every pass (a lease
on S3 expires ``CLAIM_TTL`` seconds after a holder died; a file lock dies with its process).

Failures: after ``threshold`` consecutive failures the sender waits ``backoff`` between attempts (before
that, ``RETRY_PAUSE``), and keeps the entry; nothing is dropped except beyond ``maxpending``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registry_impl.notifications.endpoints import Endpoint
from registry_impl.notifications.events import EVENTS_MEDIA_TYPE, envelope
from registry_impl.notifications.outbox import Outbox
from registry_impl.storage.driver.claims import Claim, ClaimLost

if TYPE_CHECKING:  # httpx is imported by run(): a worker without notifications never loads it
    import httpx

    from registry_impl.services.offload import Offload  # a type only: services import this package

__all__ = ["Sender", "Status", "counters"]

log = logging.getLogger("registry.notifications")

#: Seconds between looks at the outbox for entries other workers or replicas wrote (this process's own
#: entries wake the sender at once), and between attempts to take a claim another process holds.
POLL = 0.5
RETRY_PAUSE = 0.05
#: Outbox entries (one request's events each) sent together in one envelope; distribution's envelopes too
#: may carry unrelated events.
BATCH = 64
#: Seconds a sender waits after a pass (or a wake-up) before it looks again: a registry busy with pulls
#: sends an envelope every LINGER seconds instead of one per request (latency: at most this much more).
LINGER = 0.05
#: Seconds between writes of the delivery status to storage while nothing changes.
STATUS_EVERY = 1.0
#: Seconds a sender's claim outlives its holder on storage where claims are leases (S3).
CLAIM_TTL = 15.0


@dataclass(frozen=True)
class Counters:
    dropped: Any
    delivered: Any
    failed: Any


@functools.cache
def counters() -> Counters:
    """The ``prometheus_client`` counters, created on first use: importing this module does not load
    prometheus_client (the supervisor sets up multiprocess metrics before it loads)."""
    from prometheus_client import Counter

    return Counters(
        Counter(
            "registry_notifications_dropped_events_total",
            "Envelopes dropped from an endpoint's outbox because it held more than maxpending",
            ["endpoint"],
        ),
        Counter(
            "registry_notifications_delivered_total", "Envelopes an endpoint acknowledged (2xx)", ["endpoint"]
        ),
        Counter(
            "registry_notifications_failures_total", "Delivery attempts that failed (no 2xx)", ["endpoint"]
        ),
    )


@dataclass
class Status:
    """What this process knows of one endpoint's delivery (``pending`` is counted in storage by
    ``Notifier.status``; the rest is this process's sender)."""

    endpoint: str
    url: str
    pending: int = 0
    delivering: bool = False  # this process holds the endpoint's claim
    last_success: float | None = None  # Unix time of the last 2xx
    last_failure: float | None = None
    last_error: str = ""
    failures: int = 0  # consecutive


class Sender:
    def __init__(self, endpoint: Endpoint, outbox: Outbox, offload: Offload) -> None:
        self.endpoint = endpoint
        self.outbox = outbox
        self.offload = offload
        self.status = Status(endpoint.name, endpoint.shown_url)
        self._wake: asyncio.Event | None = None
        self._headers = [(k, v) for k, vs in endpoint.headers.items() for v in vs]
        self._headers.append(("Content-Type", EVENTS_MEDIA_TYPE))
        self._saved_at = 0.0  # when the status was last written to storage
        self._renewed_at = 0.0  # when the claim was last taken or renewed
        # the lease outlasts a POST that hangs until its timeout, and a backoff pause, several times over
        self._ttl = max(CLAIM_TTL, 3 * (endpoint.timeout + endpoint.backoff))

    def wake(self) -> None:
        """An entry was just written by this process: deliver without waiting for the next poll."""
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled: take the claim (or wait for it), then drain the outbox while holding it."""
        import httpx

        self._wake = asyncio.Event()
        async with httpx.AsyncClient(timeout=self.endpoint.timeout, trust_env=False) as client:
            while True:
                try:
                    claim = await self.offload.storage(
                        self.outbox.driver.try_claim, self.outbox.claim_path, self._ttl
                    )
                except Exception:
                    log.exception(
                        "notifications: endpoint %s: cannot take the sender claim", self.endpoint.name
                    )
                    claim = None
                if claim is None:
                    await self._idle()
                    continue
                self.status.delivering = True
                self._renewed_at = time.monotonic()  # just taken
                try:
                    await self._hold(client, claim)
                except ClaimLost:
                    log.warning("notifications: endpoint %s: sender claim lost", self.endpoint.name)
                except Exception:
                    log.exception("notifications: endpoint %s: sender failed; retrying", self.endpoint.name)
                    await asyncio.sleep(self.endpoint.backoff)
                finally:
                    self.status.delivering = False
                    await self.offload.shielded(claim.release)

    async def _idle(self) -> None:
        assert self._wake is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), POLL)
        self._wake.clear()

    async def _hold(self, client: httpx.AsyncClient, claim: Claim) -> None:
        while True:
            await self._renew(claim)
            assert self._wake is not None
            self._wake.clear()
            names = await self.offload.slow(self.outbox.names)
            names = await self._trim(names)
            self.status.pending = len(names)
            for start in range(0, len(names), BATCH):
                batch = names[start : start + BATCH]
                await self._deliver(client, claim, batch)
                self.status.pending -= len(batch)
            if len(names) >= BATCH:
                continue  # a backlog: on at once
            if not names:
                await self._idle()
            await asyncio.sleep(LINGER)  # a busy registry's next events gather into one envelope

    async def _renew(self, claim: Claim) -> None:
        """Extend the claim, at most every third of its lease (each call a storage call: a thread hop on S3)."""
        now = time.monotonic()
        if now - self._renewed_at >= self._ttl / 3:
            await self.offload.storage(claim.renew)
            self._renewed_at = now

    async def _trim(self, names: list[str]) -> list[str]:
        cap = self.endpoint.max_pending
        if len(names) <= cap:
            return names
        dropped = await self.offload.slow(self.outbox.trim, names, cap)
        counters().dropped.labels(self.endpoint.name).inc(len(dropped))
        log.error(
            "notifications: endpoint %s: %d undelivered envelope(s) dropped (more than maxpending=%d pending)",
            self.endpoint.name,
            len(dropped),
            cap,
        )
        return names[len(dropped) :]

    async def _deliver(self, client: httpx.AsyncClient, claim: Claim, names: list[str]) -> None:
        """POST the events of entries ``names`` (oldest first) in one envelope until the endpoint takes it,
        then remove them."""
        bodies = await self.offload.storage(self.outbox.read_all, names)
        if not bodies:
            return
        if len(bodies) == 1:
            body = bodies[0]
        else:
            body = envelope([event for raw in bodies for event in json.loads(raw)["events"]])
        while True:
            error = await self._post(client, body)
            if error is None:
                await self.offload.storage(self.outbox.remove_all, names)
                await self._save(changed=self._succeeded())
                return
            await self._save(changed=self._failed(error))
            pause = self.endpoint.backoff if self.status.failures >= self.endpoint.threshold else RETRY_PAUSE
            await asyncio.sleep(pause)
            await self._renew(claim)

    async def _post(self, client: httpx.AsyncClient, body: bytes) -> str | None:
        import httpx

        try:
            response = await client.post(self.endpoint.url, content=body, headers=self._headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def _save(self, changed: bool) -> None:
        """Record the outcome in storage (any process's status report reads it): on a change between
        failing and delivering, else at most every ``STATUS_EVERY`` seconds."""
        now = time.monotonic()
        if not changed and now - self._saved_at < STATUS_EVERY:
            return
        self._saved_at = now
        keys = ("last_success", "last_failure", "last_error", "failures")
        saved = {key: getattr(self.status, key) for key in keys}
        try:
            await self.offload.storage(self.outbox.save_status, saved)
        except Exception:  # a status that cannot be written must not stop delivery
            log.exception("notifications: endpoint %s: cannot record the delivery status", self.endpoint.name)

    def _succeeded(self) -> bool:
        """Count a 2xx; True when it ends a run of failures."""
        status = self.status
        recovered = status.failures > 0
        if status.failures:
            log.info(
                "notifications: endpoint %s: delivering again after %d failed attempt(s)",
                status.endpoint,
                status.failures,
            )
        status.failures = 0
        status.last_success = time.time()
        counters().delivered.labels(status.endpoint).inc()
        return recovered

    def _failed(self, error: str) -> bool:
        """Count a failed attempt; True when it is the first of a run."""
        status = self.status
        status.failures += 1
        status.last_failure = time.time()
        status.last_error = error
        counters().failed.labels(status.endpoint).inc()
        if status.failures == 1 or status.failures % self.endpoint.threshold == 0:
            log.warning(
                "notifications: endpoint %s: delivery failed (%s); %d pending, %d consecutive failure(s), retrying",
                status.endpoint,
                error,
                status.pending,
                status.failures,
            )
        return status.failures == 1
