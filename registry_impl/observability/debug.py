"""The debug listener on ``http.debug.addr`` (off by default, as distribution): ``/debug/health``,
``/debug/notifications`` (each endpoint's delivery status) when notifications are configured and, with
``http.debug.prometheus.enabled``, the metrics at ``http.debug.prometheus.path``.

It runs in the supervising process (``registry serve``), in a thread, beside the workers: with several
workers the metrics are merged from ``PROMETHEUS_MULTIPROC_DIR`` by ``MultiProcessCollector``, and the
health checks are run here too, on the same schedule as in each worker. Nothing of it is on the main port.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from registry_impl.observability.health import HealthChecks

__all__ = ["DebugServer", "exposition"]

log = logging.getLogger("registry.debug")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def exposition() -> tuple[bytes, str]:
    """Every metric registered through ``prometheus_client`` (merged across processes when multiprocess)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class DebugServer:
    """A small threaded HTTP server; ``start()`` returns at once, ``stop()`` closes it."""

    def __init__(
        self,
        host: str,
        port: int,
        checks: HealthChecks,
        metrics_path: str | None,
        notifications: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.checks = checks
        self.metrics_path = metrics_path
        self.notifications = notifications  # delivery status per endpoint (``/debug/notifications``)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/debug/health":
                    failing = owner.checks.status()
                    self._answer(503 if failing else 200, json.dumps(failing).encode(), "application/json")
                elif owner.notifications is not None and path == "/debug/notifications":
                    self._answer(200, json.dumps(owner.notifications()).encode(), "application/json")
                elif owner.metrics_path is not None and path == owner.metrics_path:
                    self._answer(200, *exposition())
                else:
                    self._answer(404, b"404 page not found\n", "text/plain; charset=utf-8")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("debug listener: " + format, *args)

        bind = host or "0.0.0.0"

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
            daemon_threads = True

        self.httpd = Server((bind, port), Handler)
        self._stop_checks: threading.Event | None = None

    def start(self) -> None:
        self._stop_checks = self.checks.run_threads()
        threading.Thread(target=self.httpd.serve_forever, name="debug-listener", daemon=True).start()

    def stop(self) -> None:
        if self._stop_checks is not None:
            self._stop_checks.set()
        self.httpd.shutdown()
        self.httpd.server_close()
