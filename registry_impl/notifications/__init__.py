"""Notifications: distribution's webhook events, kept in a durable outbox in storage until delivered.

- ``events``: the event records and envelope, field for field as distribution's ``notifications/event.go``;
- ``targets``: what each push, pull, mount and delete is about (distribution's ``bridge.go``);
- ``endpoints``: one ``notifications.endpoints[]`` entry and which events it takes;
- ``outbox``: the pending envelopes of an endpoint, under ``/docker/registry/v2/_events/`` in storage;
- ``sender``: one per endpoint and process; the holder of the endpoint's storage claim delivers, in order;
- ``notifier``: what the services call (``emit``) and the application runs (``run``, ``status``).

Delivery is once per endpoint in normal operation (one claim holder; an entry is removed after its 2xx)
and at least once across crashes (a holder killed between the 2xx and the removal leaves the entry to be
sent again): receivers dedupe on the event ``id``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from registry_impl.notifications.endpoints import Endpoint
from registry_impl.notifications.events import EVENTS_MEDIA_TYPE, RequestRecord, Target
from registry_impl.notifications.notifier import Notifier, outbox_status
from registry_impl.notifications.outbox import Outbox
from registry_impl.storage.driver.base import StorageDriver

if TYPE_CHECKING:
    from registry_impl.services.offload import Offload  # a type only: services import this package

__all__ = [
    "EVENTS_MEDIA_TYPE",
    "Endpoint",
    "Notifier",
    "RequestRecord",
    "Target",
    "create",
    "delivery_status",
]


def create(
    endpoints: tuple[Mapping[str, Any], ...],
    include_references: bool,
    driver: StorageDriver,
    offload: Offload,
    request_record: Callable[[], RequestRecord],
    source_addr: str = "",
) -> Notifier | None:
    """The notifier for the enabled ``endpoints`` (decoded configuration entries); None when there are none."""
    enabled = [Endpoint.from_config(e) for e in endpoints if not e.get("disabled")]
    if not enabled:
        return None
    return Notifier(
        enabled,
        driver,
        offload,
        request_record,
        include_references=include_references,
        source_addr=source_addr,
    )


def delivery_status(endpoints: tuple[Mapping[str, Any], ...], driver: StorageDriver) -> list[dict[str, Any]]:
    """Per enabled endpoint: pending envelopes, last success and last failure (Unix times), the last error
    and the consecutive failures, as storage has them: any process can call it (the debug listener
    does, in a thread: it is a blocking storage call)."""
    report = []
    for entry in endpoints:
        if entry.get("disabled"):
            continue
        endpoint = Endpoint.from_config(entry)
        report.append(outbox_status(endpoint, Outbox(driver, endpoint.key, "status")))
    return report
