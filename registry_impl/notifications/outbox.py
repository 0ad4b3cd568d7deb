"""The durable outbox: envelopes waiting for one endpoint, kept in the registry's storage.

Layout (OUR addition, drawn in ``storage.paths``; distribution ignores ``_events``)::

    /docker/registry/v2/_events/<endpoint key>/<20-digit ns time>-<instance>   one envelope (JSON)
    /docker/registry/v2/_events/<endpoint key>/status                          the last delivery's outcome
    /docker/registry/v2/_claims/_events/<endpoint key>                         the sender's claim

Every worker and replica on the same storage shares it. An entry is written with ``put_content`` (atomic:
a reader sees the whole envelope or nothing) before the request that caused it is answered; the sender
holding the endpoint's claim delivers entries in name order and deletes each after a 2xx. Names sort by
the time they were written (monotonic within a process), so a request acknowledged before another one
started is delivered first; requests that overlap in time have no order to keep.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.paths import outbox_claim_path, outbox_root

__all__ = ["Outbox"]


class _Clock:
    """Nanosecond times that never repeat or go back within this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return self._last


_clock = _Clock()


class Outbox:
    """The pending envelopes of one endpoint (``key``) in ``driver``; all methods are blocking storage calls."""

    def __init__(self, driver: StorageDriver, key: str, instance: str) -> None:
        self.driver = driver
        self.root = outbox_root(key)
        self.claim_path = outbox_claim_path(key)
        self._instance = instance

    def put(self, envelope: bytes) -> str:
        """Store one envelope; returns its entry name."""
        name = f"{_clock.next():020d}-{self._instance}"
        self.driver.put_content(f"{self.root}/{name}", envelope)
        return name

    def names(self) -> list[str]:
        """The pending entries, oldest first (hidden staging files of a write in progress left out)."""
        try:
            return [n for n in self.driver.list_names(self.root) if n[:1].isdigit()]
        except PathNotFoundError:
            return []

    def read(self, name: str) -> bytes | None:
        """An entry's envelope; None when another sender delivered (and removed) it meanwhile."""
        try:
            return self.driver.get_content(f"{self.root}/{name}")
        except PathNotFoundError:
            return None

    def read_all(self, names: list[str]) -> list[bytes]:
        """The envelopes of ``names`` still there, in that order."""
        return [body for body in map(self.read, names) if body is not None]

    def remove_all(self, names: list[str]) -> None:
        for name in names:
            self.remove(name)

    def remove(self, name: str) -> None:
        with contextlib.suppress(PathNotFoundError):
            self.driver.delete(f"{self.root}/{name}")

    def save_status(self, status: dict[str, Any]) -> None:
        self.driver.put_content(f"{self.root}/status", json.dumps(status).encode())

    def load_status(self) -> dict[str, Any]:
        """What the last sender recorded (last success, last failure, its error), {} before any delivery."""
        try:
            loaded = json.loads(self.driver.get_content(f"{self.root}/status"))
        except (PathNotFoundError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def trim(self, names: list[str], cap: int) -> list[str]:
        """Drop the oldest entries beyond ``cap``; returns the names dropped."""
        dropped = names[: max(0, len(names) - cap)]
        for name in dropped:
            self.remove(name)
        return dropped
