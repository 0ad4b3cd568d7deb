"""distribution's ``health`` section: periodic checks run in the background, and the gate they close.

Each check (``storagedriver``, ``file``, ``http``, ``tcp``) runs every ``interval`` in a worker thread;
once it has failed ``threshold`` times in a row (once, when ``threshold`` is 0, as distribution) it is
*failing* until its next success. While any check fails, ``HealthGate`` answers every request 503
``UNAVAILABLE`` with the registry envelope; requests never wait on a check, they read its last result.
``status()`` is what ``/debug/health`` shows: each failing check, its error and since when.

The storagedriver check writes and deletes a small probe file (``/_health_<host>_<pid>``) and stats
``/`` when the registry is read-only: distribution only stats ``/``, which a storage that can no
longer be written still passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver

__all__ = ["Check", "HealthChecks", "HealthGate", "checks_from_config"]

log = logging.getLogger("registry.health")
DEFAULT_INTERVAL = 10.0
DEFAULT_TIMEOUT = 3.0


@dataclass
class Check:
    """One named probe (raises on failure) with its schedule and its last results."""

    name: str
    probe: Callable[[], None]
    interval: float = DEFAULT_INTERVAL
    threshold: int = 0
    failures: int = 0
    error: str = ""
    since: float = 0.0  # when the failing run began (epoch seconds); 0 while passing

    @property
    def failing(self) -> bool:
        return self.failures >= max(self.threshold, 1)

    def run_once(self) -> None:
        try:
            self.probe()
        except Exception as exc:  # any failure of the probe is the check failing
            if self.failures == 0:
                self.since = time.time()
            self.failures += 1
            self.error = str(exc) or type(exc).__name__
            if self.failures == max(self.threshold, 1):
                log.error("health check %s failing: %s", self.name, self.error)
            return
        if self.failing:
            log.warning("health check %s passes again", self.name)
        self.failures, self.error, self.since = 0, "", 0.0


@dataclass
class HealthChecks:
    """The configured checks; ``healthy`` is read by every request, so it is a plain attribute read."""

    checks: list[Check] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not any(check.failing for check in self.checks)

    def status(self) -> dict[str, Any]:
        """The failing checks: ``{name: {"error", "since", "failures"}}`` (empty when healthy)."""
        return {
            c.name: {
                "error": c.error,
                "since": datetime.fromtimestamp(c.since, UTC).isoformat(timespec="seconds"),
                "failures": c.failures,
            }
            for c in self.checks
            if c.failing
        }

    async def run_async(self) -> None:
        """Run every check on its schedule until cancelled (one task per check, probes in threads)."""
        await asyncio.gather(*(self._loop(check) for check in self.checks))

    @staticmethod
    async def _loop(check: Check) -> None:
        while True:
            await asyncio.to_thread(check.run_once)
            await asyncio.sleep(check.interval)

    def run_threads(self) -> threading.Event:
        """Run every check in a daemon thread of its own; set the returned event to stop them."""
        stop = threading.Event()

        def loop(check: Check) -> None:
            while not stop.is_set():
                check.run_once()
                stop.wait(check.interval)

        for check in self.checks:
            threading.Thread(target=loop, args=(check,), name=f"health-{check.name}", daemon=True).start()
        return stop


class HealthGate:
    """503 UNAVAILABLE while a check fails; runs the checks for as long as the application's lifespan."""

    def __init__(self, app: ASGIApp, checks: HealthChecks, unavailable: Callable[[Any], ASGIApp]) -> None:
        self.app = app
        self.checks = checks
        self.unavailable = unavailable  # the envelope writer's 503 (``registry_impl.api.errors.unavailable``)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            task = asyncio.create_task(self.checks.run_async())
            try:
                await self.app(scope, receive, send)
            finally:
                task.cancel()
            return
        if scope["type"] == "http" and not self.checks.healthy:
            await self.unavailable({"checks": self.checks.status()})(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, timedelta) and value > timedelta(0):
        return value.total_seconds()
    return default


def storage_probe(driver: StorageDriver, writable: bool) -> Callable[[], None]:
    probe_path = f"/_health_{socket.gethostname()}_{os.getpid()}".replace(":", "_")

    def probe() -> None:
        if not writable:
            with contextlib.suppress(PathNotFoundError):  # an empty storage is a healthy one
                driver.stat("/")
            return
        driver.put_content(probe_path, b"ok")
        driver.delete(probe_path)

    return probe


def file_probe(path: str) -> Callable[[], None]:
    def probe() -> None:
        if os.path.exists(path):
            raise RuntimeError(f"file {path} exists: out of rotation")

    return probe


def http_probe(uri: str, headers: Mapping[str, Any], status: int, timeout: float) -> Callable[[], None]:
    pairs = [
        (k, v) for k, values in headers.items() for v in (values if isinstance(values, list) else [values])
    ]

    def probe() -> None:
        import httpx  # only for a configured http check: a worker without one never loads it

        response = httpx.head(uri, headers=pairs, timeout=timeout)
        if response.status_code != status:
            raise RuntimeError(f"{uri}: status {response.status_code}, expected {status}")

    return probe


def tcp_probe(addr: str, timeout: float) -> Callable[[], None]:
    host, _, port = addr.rpartition(":")

    def probe() -> None:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass

    return probe


def checks_from_config(
    health: Mapping[str, Any], driver: StorageDriver | None, driver_name: str, writable: bool = True
) -> HealthChecks:
    """The checks distribution's ``health`` section configures (none when it is empty)."""
    checks: list[Check] = []
    storage = health.get("storagedriver") or {}
    if storage.get("enabled") and driver is not None:
        checks.append(
            Check(
                f"storagedriver_{driver_name}",
                storage_probe(driver, writable),
                _seconds(storage.get("interval"), DEFAULT_INTERVAL),
                int(storage.get("threshold") or 0),
            )
        )
    for entry in health.get("file") or ():
        checks.append(
            Check(
                entry["file"],
                file_probe(entry["file"]),
                _seconds(entry.get("interval"), DEFAULT_INTERVAL),
                int(entry.get("threshold") or 0),
            )
        )
    for entry in health.get("http") or ():
        timeout = _seconds(entry.get("timeout"), DEFAULT_TIMEOUT)
        probe = http_probe(entry["uri"], entry.get("headers") or {}, entry.get("statuscode") or 200, timeout)
        checks.append(
            Check(
                entry["uri"],
                probe,
                _seconds(entry.get("interval"), DEFAULT_INTERVAL),
                int(entry.get("threshold") or 0),
            )
        )
    for entry in health.get("tcp") or ():
        timeout = _seconds(entry.get("timeout"), DEFAULT_TIMEOUT)
        checks.append(
            Check(
                entry["addr"],
                tcp_probe(entry["addr"], timeout),
                _seconds(entry.get("interval"), DEFAULT_INTERVAL),
                int(entry.get("threshold") or 0),
            )
        )
    return HealthChecks(checks)
