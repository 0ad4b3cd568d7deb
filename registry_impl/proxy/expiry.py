"""Proxied content expires ``ttl`` after it was last pulled (distribution's proxy scheduler, made pull-aware).

Each proxied blob and manifest has a record, ``_proxy/<name>/_blobs/<alg>/<hex>`` or ``.../_manifests/<alg>/<hex>``,
whose modification time is when it was last fetched or pulled: written at fetch, rewritten by a pull when this
process has not rewritten it for a quarter of the ttl (so a hot blob costs a write per quarter-ttl per worker, not
one per pull). A sweep, every quarter of the shortest ttl (between 1 s and 1 h) in one worker at a time (the
holder of the ``_claims/_proxy_expiry`` claim), unlinks what is older than its upstream's ttl from its repository —
a manifest with every tag pointing at it, under their claims — and drops the record; the next pull fetches it
again. Nothing expires while its upstream does not answer (what is cached is then all there is to serve). The
unlinked data is garbage collection's to reclaim. A ttl of 0 never expires.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import anyio

from registry_impl.errors import BlobUnknown, ManifestUnknown
from registry_impl.proxy.upstream import Upstream
from registry_impl.services.claims import claimed
from registry_impl.services.state import State
from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver

__all__ = ["Pulls", "expire", "expire_forever", "sweep_interval", "write_record"]

UpstreamFor = Callable[[str], Upstream | None]

log = logging.getLogger("registry.proxy")

ROOT = f"{paths.ROOT}/_proxy"
KINDS = ("_blobs", "_manifests")
EXPIRY_CLAIM = f"{paths.ROOT}/_claims/_proxy_expiry"


def record_path(name: str, kind: str, digest: str) -> str:
    algorithm, _, hex_ = digest.partition(":")
    return f"{ROOT}/{name}/{kind}/{algorithm}/{hex_}"


class Pulls:
    """The records of this process's recent pulls: which were rewritten lately (bounded)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._written: OrderedDict[str, float] = OrderedDict()
        self.limit = limit

    def due(self, path: str, ttl: timedelta) -> bool:
        """Whether the record at ``path`` should be rewritten now (and remember it was)."""
        now = time.monotonic()
        last = self._written.get(path)
        if last is not None and now - last < ttl.total_seconds() / 4:
            return False
        self._written[path] = now
        self._written.move_to_end(path)
        while len(self._written) > self.limit:
            self._written.popitem(last=False)
        return True


def write_record(driver: StorageDriver, name: str, kind: str, digest: str) -> None:
    driver.put_content(record_path(name, kind, digest), b"")


def sweep_interval(upstreams: list[Upstream]) -> float | None:
    """Seconds between sweeps: a quarter of the shortest non-zero ttl, within 1 s and 1 h; None: none expires."""
    ttls = [u.ttl.total_seconds() for u in upstreams if u.ttl > timedelta(0)]
    return min(max(min(ttls) / 4, 1.0), 3600.0) if ttls else None


def _expired(driver: StorageDriver, upstream_for: UpstreamFor, now: datetime) -> list[tuple[str, str, str]]:
    """(name, kind, digest) of every record older than its upstream's ttl."""
    found = []
    try:
        for info in driver.walk(ROOT):
            if info.is_dir:
                continue
            for kind in KINDS:
                name, sep, rest = info.path[len(ROOT) + 1 :].partition(f"/{kind}/")
                if not sep:
                    continue
                upstream = upstream_for(name)
                if upstream is None or upstream.ttl == timedelta(0) or now - info.mod_time < upstream.ttl:
                    continue
                algorithm, _, hex_ = rest.partition("/")
                found.append((name, kind, f"{algorithm}:{hex_}"))
    except PathNotFoundError:
        return []
    return found


async def expire(state: State, upstream_for: UpstreamFor) -> int:
    """One sweep (skipped while another worker sweeps); how many items expired."""
    offload, driver = state.offload, state.registry.driver
    claim = await offload.storage(driver.try_claim, EXPIRY_CLAIM, 60.0)
    if claim is None:
        return 0
    try:
        expired = await offload.slow(_expired, driver, upstream_for, datetime.now(UTC))
        reachable: dict[str, bool] = {}
        done = 0
        for name, kind, digest in expired:
            upstream = upstream_for(name)
            if upstream is None:
                continue
            if upstream.url not in reachable:  # through an outage, what is cached is all there is: keep it
                reachable[upstream.url] = await offload.slow(upstream.reachable)
            if reachable[upstream.url]:
                await _expire_one(state, name, kind, digest)
                done += 1
        if done:
            log.info("proxy: %d cached items expired", done)
        return done
    finally:
        await offload.shielded(claim.release)


async def _expire_one(state: State, name: str, kind: str, digest: str) -> None:
    offload, repo = state.offload, state.registry.repository(name)
    if kind == "_blobs":
        with contextlib.suppress(BlobUnknown):
            await offload.storage(repo.blobs.delete, digest)
    else:
        async with claimed(state, name, ("manifests", digest)):
            tags = await offload.storage(repo.tags.pointing_at, digest)
            async with claimed(state, name, *[("tags", tag) for tag in sorted(tags)]):
                with contextlib.suppress(ManifestUnknown):
                    await offload.slow(repo.manifests.delete, digest)  # with the tags pointing at it
    with contextlib.suppress(PathNotFoundError):
        await offload.storage(state.registry.driver.delete, record_path(name, kind, digest))


async def expire_forever(state: State, upstreams: list[Upstream], upstream_for: UpstreamFor) -> None:
    """Sweep for as long as the application runs."""
    interval = sweep_interval(upstreams)
    if interval is None:
        return
    while True:
        await anyio.sleep(interval)
        try:
            await expire(state, upstream_for)
        except Exception:
            log.exception("proxy: expiry sweep failed; retrying in %.0f s", interval)
