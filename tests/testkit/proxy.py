"""TCP proxies on loopback: one cuts a connection after N bytes (resumable transfers), one delays chosen requests.

``CuttingProxy(upstream_port, cut_after=N, direction="up")`` forwards every connection to the upstream port; the
first connection to carry more than N bytes in ``direction`` (``up``: client to server, an upload; ``down``: a
download) is cut at that point, once: the receiver gets the first N bytes and the end of the stream, the sender a
reset. Later connections pass untouched. ``cuts`` counts what was cut.

``DelayingProxy(upstream_port, marker=b"stalled", delay=2.0)`` holds every request that mentions ``marker``
for ``delay`` seconds (a slow storage backend, for some keys only).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Literal

Direction = Literal["up", "down"]


class CuttingProxy:
    def __init__(self, upstream_port: int, *, cut_after: int, direction: Direction = "up") -> None:
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.direction = direction
        self.cuts = 0
        self._armed = True
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, name="cutting-proxy", daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            budget = [self.cut_after]
            for source, sink, direction in ((client, upstream, "up"), (upstream, client, "down")):
                threading.Thread(
                    target=self._pump, args=(source, sink, direction, budget, client, upstream), daemon=True
                ).start()

    def _pump(
        self,
        source: socket.socket,
        sink: socket.socket,
        direction: str,
        budget: list[int],
        client: socket.socket,
        upstream: socket.socket,
    ) -> None:
        try:
            while data := source.recv(65536):
                if direction == self.direction and self._take(budget, len(data)):
                    sink.sendall(data[: max(budget[0], 0)])
                    # the receiving end gets what was forwarded, then the end of the stream; the sending end
                    # a reset (as when a middlebox or the network drops the connection)
                    with contextlib.suppress(OSError):
                        sink.shutdown(socket.SHUT_WR)
                    _reset(source)
                    return
                sink.sendall(data)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
        except OSError:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()

    def _take(self, budget: list[int], n: int) -> bool:
        """Spend ``n`` bytes of this connection's budget; True when this is the one cut."""
        with self._lock:
            if not self._armed:
                return False
            if budget[0] - n >= 0:
                budget[0] -= n
                return False
            self._armed = False
            self.cuts += 1
            return True

    def close(self) -> None:
        self._closed = True
        self._listener.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a dropped connection looks to both ends."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


class DelayingProxy:
    """Forwards every connection to ``upstream_port``; a piece of a request that contains ``marker`` (e.g. a
    repository's name in an S3 key) is held ``delay`` seconds before it goes on, so only those requests are
    slow and everything else (a server's start-up included) passes at once. ``delayed`` counts the holds."""

    def __init__(self, upstream_port: int, *, marker: bytes, delay: float) -> None:
        self.upstream_port = upstream_port
        self.marker = marker
        self.delay = delay
        self.delayed = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, name="delaying-proxy", daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for source, sink, hold in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(source, sink, hold), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, hold: bool) -> None:
        try:
            while data := source.recv(65536):
                if hold and self.marker in data:
                    self.delayed += 1
                    time.sleep(self.delay)
                sink.sendall(data)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
        except OSError:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.close()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
