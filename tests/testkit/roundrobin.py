"""A threaded round-robin TCP proxy on loopback: each new client connection goes to the next backend.

It stands in for a load-balancer in front of registry replicas: one client's consecutive connections land on
different processes, so anything a replica keeps only in memory shows. ``RoundRobinProxy(backends)`` listens
on a free port once started (``.host``, ``.url``), counts connections per backend (``.counts``) and
``stop()`` closes the listener and every open connection.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

BUFFER = 1 << 16
CONNECT_TIMEOUT = 5.0


class RoundRobinProxy:
    """Accepts connections on ``127.0.0.1:PORT`` and pipes each to the next of ``backends`` (``(host, port)``)."""

    def __init__(self, backends: Sequence[tuple[str, int]]) -> None:
        if not backends:
            raise ValueError("a round-robin proxy needs at least one backend")
        self.backends = list(backends)
        self.counts = [0] * len(self.backends)
        self._next = itertools.cycle(range(len(self.backends)))
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stopped = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, name="roundrobin-accept", daemon=True)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the registry part of an image reference."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> RoundRobinProxy:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            _close(sock)
        self._acceptor.join(CONNECT_TIMEOUT)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                index = next(self._next)
                self.counts[index] += 1
            threading.Thread(target=self._serve, args=(client, index), daemon=True).start()

    def _serve(self, client: socket.socket, index: int) -> None:
        try:
            upstream = socket.create_connection(self.backends[index], timeout=CONNECT_TIMEOUT)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._sockets.update((client, upstream))
        pump = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        pump.start()
        _pipe(client, upstream)
        pump.join()
        with self._lock:
            self._sockets.difference_update((client, upstream))
        _close(client)
        _close(upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until ``source`` ends, then half-close ``sink`` so the other side sees the end too."""
    try:
        while data := source.recv(BUFFER):
            sink.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextmanager
def round_robin(backends: Sequence[tuple[str, int]]) -> Iterator[RoundRobinProxy]:
    """A started proxy for the duration of the block."""
    proxy = RoundRobinProxy(backends).start()
    try:
        yield proxy
    finally:
        proxy.stop()
