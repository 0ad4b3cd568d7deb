"""The notifier: turns what the services did into events, writes them to each endpoint's outbox, runs the senders.

The services call ``emit`` after a push, pull, mount or delete succeeded and before the handler answers:
the request is acknowledged only once its events are in storage. A registry without enabled endpoints
has no notifier at all (``state.notifier is None``: the hot reads pay one attribute test).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from registry_impl.notifications.endpoints import Endpoint
from registry_impl.notifications.events import RequestRecord, SourceRecord, Target, envelope, event
from registry_impl.notifications.outbox import Outbox
from registry_impl.notifications.sender import Sender
from registry_impl.storage.driver.base import StorageDriver

if TYPE_CHECKING:
    from registry_impl.services.offload import Offload  # a type only: services import this package

__all__ = ["Notifier"]

log = logging.getLogger("registry.notifications")


class Notifier:
    """Events for the configured endpoints: written through ``offload`` by ``emit``, delivered by ``run``."""

    def __init__(
        self,
        endpoints: Iterable[Endpoint],
        driver: StorageDriver,
        offload: Offload,
        request_record: Callable[[], RequestRecord],
        *,
        include_references: bool = False,
        source_addr: str = "",
    ) -> None:
        instance = uuid.uuid4()
        self.source = SourceRecord(source_addr or socket.gethostname(), str(instance))
        self.include_references = include_references
        self.request_record = request_record
        self.offload = offload
        self.senders = [
            Sender(endpoint, Outbox(driver, endpoint.key, f"{os.getpid()}.{instance.hex[:8]}"), offload)
            for endpoint in endpoints
        ]
        self._wanted = {
            action: any(s.endpoint.wants(action) for s in self.senders)
            for action in ("push", "pull", "mount", "delete")
        }

    def wants(self, action: str) -> bool:
        """Whether any endpoint takes events of ``action`` (a caller may skip building them otherwise)."""
        return self._wanted.get(action, False)

    async def emit(self, *targets: Target) -> None:
        """Write the events of ``targets`` (one request's) to every endpoint that takes them, one envelope
        per endpoint, before returning."""
        record = self.request_record()
        events = [(target, event(target, record, self.source)) for target in targets]
        writes: list[tuple[Sender, bytes]] = []
        for sender in self.senders:
            mine = [e for target, e in events if sender.endpoint.takes(target)]
            if mine:
                writes.append((sender, envelope(mine)))
        if writes:  # the action is done: its events are written even if the client goes away meanwhile
            await self.offload.shielded(partial(_put_all, writes))
        for sender, _ in writes:
            sender.wake()

    async def run(self) -> None:
        """Run every endpoint's sender until cancelled."""
        for sender in self.senders:
            log.info(
                "notifications: endpoint %s (%s): outbox %s",
                sender.endpoint.name,
                sender.endpoint.shown_url,
                sender.outbox.root,
            )
        await asyncio.gather(*(sender.run() for sender in self.senders))

    def status(self) -> list[dict[str, Any]]:
        """Per endpoint: pending envelopes (counted in storage, so every worker's and replica's), the last
        success and failure (this process's when it delivered, else what the last sender recorded in
        storage), and whether this process is the one delivering. A blocking storage call."""
        report = []
        for sender in self.senders:
            entry = outbox_status(sender.endpoint, sender.outbox)
            local = sender.status
            if local.last_success is not None or local.last_failure is not None:
                entry.update(
                    last_success=local.last_success,
                    last_failure=local.last_failure,
                    last_error=local.last_error,
                    failures=local.failures,
                )
            entry["delivering"] = local.delivering
            report.append(entry)
        return report

    def log_status(self) -> None:
        for entry in self.status():
            log.info("notifications: status %s", entry)


def outbox_status(endpoint: Endpoint, outbox: Outbox) -> dict[str, Any]:
    """One endpoint's delivery status as storage has it (a blocking storage call)."""
    saved = outbox.load_status()
    return {
        "endpoint": endpoint.name,
        "url": endpoint.shown_url,
        "pending": len(outbox.names()),
        "last_success": saved.get("last_success"),
        "last_failure": saved.get("last_failure"),
        "last_error": saved.get("last_error", ""),
        "failures": saved.get("failures", 0),
        "delivering": False,
    }


def _put_all(writes: list[tuple[Sender, bytes]]) -> None:
    for sender, body in writes:
        sender.outbox.put(body)
