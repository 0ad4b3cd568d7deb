"""Background maintenance a running server does: upload purging on its schedule."""

from __future__ import annotations

import asyncio
import logging

from registry_impl.api.context import AppState
from registry_impl.storage.purge import purge_uploads

log = logging.getLogger("registry.purge")


async def purge_forever(state: AppState) -> None:
    """Purge old uploads after a short delay, then every interval, until cancelled."""
    schedule = state.purge
    if schedule is None:
        return
    await asyncio.sleep(schedule.first_delay)
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
        except Exception:  # a failed pass must not end the schedule
            log.exception("upload purge failed")
        await asyncio.sleep(schedule.interval.total_seconds())
