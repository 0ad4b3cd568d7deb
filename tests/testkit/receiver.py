"""A notification endpoint for tests: an HTTP server on a loopback port, in a thread, that records every
envelope POSTed to it; it can be stopped and started again on the same port (an endpoint that is down).

with Receiver() as receiver:
    ... configure ``receiver.url`` as an endpoint ...
    events = receiver.wait_for(lambda events: len(events) >= 3)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testkit.processes import free_port

Events = list[dict[str, Any]]


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/events"
        self.status = status  # what it answers (a 500 is an endpoint that refuses)
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner._lock:
                    if owner.status < 300:
                        owner.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def events(self) -> Events:
        """Every event received, in order of arrival (several envelopes flattened)."""
        with self._lock:
            return [e for _, body in self.posts for e in json.loads(body)["events"]]

    def wait_for(self, done: Callable[[Events], bool], timeout: float = 20.0) -> Events:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events
            if done(events):
                return events
            time.sleep(0.05)
        raise AssertionError(f"receiver: condition not met within {timeout}s; got {json.dumps(self.events)}")

    def wait_count(self, n: int, timeout: float = 20.0) -> Events:
        return self.wait_for(lambda events: len(events) >= n, timeout)
