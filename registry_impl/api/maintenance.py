"""Background maintenance a running server does on its schedules: upload purging, online garbage collection."""

from __future__ import annotations

import asyncio
import logging
import random

from registry_impl.api.context import AppState
from registry_impl.memory import release_after_walk
from registry_impl.storage.cache.base import NoCache
from registry_impl.storage.onlinegc import GCBusy, collect_garbage_online
from registry_impl.storage.purge import purge_uploads
from registry_impl.storage.registry import Registry

log = logging.getLogger("registry.purge")
gc_log = logging.getLogger("registry.gc")

FIRST_PURGE_JITTER = 3600.0  # seconds: the first purge pass comes at a random moment within the first hour


async def purge_forever(state: AppState) -> None:
    """Purge old uploads after a random delay of up to an hour, then every interval, until cancelled.

    As distribution's purger: a pass walks the whole repositories tree, so it is not run while a server
    (or every replica restarted together) is starting up and warming its caches."""
    schedule = state.purge
    if schedule is None:
        return
    delay = schedule.first_delay
    await asyncio.sleep(random.uniform(0, FIRST_PURGE_JITTER) if delay is None else delay)
    while True:
        try:
            purged = await asyncio.to_thread(
                purge_uploads, state.registry.driver, schedule.age, dry_run=schedule.dry_run
            )
            if purged:
                log.info(
                    "upload purge: %d stale upload(s)%s",
                    len(purged),
                    " (dry run)" if schedule.dry_run else "",
                )
            # the pass also clears what killed writes left staged (the server's own start never walks the tree)
            swept = await asyncio.to_thread(state.registry.driver.sweep_stages, dry_run=schedule.dry_run)
            if swept:
                log.info(
                    "upload purge: %d entries staged by writes that did not finish%s: %s",
                    len(swept),
                    " (dry run)" if schedule.dry_run else "",
                    ", ".join(swept[:10]),
                )
        except Exception:  # a failed pass must not end the schedule
            log.exception("upload purge failed")
        await asyncio.to_thread(release_after_walk)
        await asyncio.sleep(schedule.interval.total_seconds())


async def collect_forever(state: AppState) -> None:
    """Online garbage collection every interval (the first after one interval), until cancelled. Every worker
    and replica runs the schedule; the storage's GC claim lets one collection run at a time."""
    schedule = state.gc
    if schedule is None:
        return
    from registry_impl.observability.metrics import gc_run  # prometheus_client: only with online GC on

    while True:
        await asyncio.sleep(schedule.interval.total_seconds())
        registry = Registry(state.registry.driver, cache=NoCache())  # decisions on storage, not a cache
        try:
            report = await asyncio.to_thread(
                collect_garbage_online,
                registry,
                grace=schedule.grace,
                dry_run=schedule.dry_run,
                delete_untagged=schedule.delete_untagged,
            )
            gc_log.info("online garbage collection: %s", list(report.lines())[-1])
            gc_run("online", 0 if report.dry_run else len(report.blobs))
        except GCBusy:
            gc_log.debug("online garbage collection: another run holds the storage's GC claim")
        except Exception:  # a failed pass must not end the schedule
            gc_log.exception("online garbage collection failed")
        await asyncio.to_thread(release_after_walk)
