"""A minimal HTTP/1.1 client for the chunked push: one keep-alive connection, each body sent from its file with
``sendfile(2)``, so the client does next to nothing between a response and the next request.

httpx (the chunked push's client before) read each 8 MiB chunk into memory and copied it through its request
machinery: ~5 ms per PATCH of the client's own, during which neither server worked (traced server side: ours
spent ~13 ms of a PATCH's ~18 ms). Both registries get the same requests from this client; it speaks only what a
registry's upload answers need: a status line, headers, and a body sized by Content-Length or chunked.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

__all__ = ["Answer", "Connection", "parse_head"]

TIMEOUT = 600.0
_READ = 65536


class Answer:
    """A response: status, lowercased headers, body bytes."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status and headers (names lowercased; a repeated header keeps its last value) of a response head."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


class Connection:
    """Requests to one ``http://host:port`` over one connection (reopened when the server closes it)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"need http://host:port, got {base_url!r}")
        self.base_url, self._address, self._host = base_url, (parts.hostname, parts.port), parts.netloc
        self._sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock, self._buffer = None, b""

    def target(self, url: str) -> str:
        """The request target (path and query) of ``url``, relative to this connection's base."""
        parts = urlsplit(urljoin(self.base_url + "/", url))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        body: BinaryIO | None = None,
        offset: int = 0,
        length: int = 0,
    ) -> Answer:
        """``method url``, its body ``length`` bytes of ``body`` from ``offset`` (sent with sendfile)."""
        sock = self._connected()
        lines = [f"{method} {self.target(url)} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {length}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if length:
            assert body is not None
            sent = sock.sendfile(body, offset, length)  # os.sendfile, waiting while the socket is full
            if sent != length:
                raise EOFError(f"{url}: the body file ended after {sent} of {length} bytes")
        answer = self._answer(method)
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    def _connected(self) -> socket.socket:
        if self._sock is None:
            self._buffer = b""
            self._sock = socket.create_connection(self._address, timeout=TIMEOUT)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._sock

    def _fill(self) -> None:
        assert self._sock is not None
        data = self._sock.recv(_READ)
        if not data:
            self._sock.close()
            self._sock = None
            raise EOFError("the server closed the connection")
        self._buffer += data

    def _take(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._fill()
        taken, self._buffer = self._buffer[:n], self._buffer[n:]
        return taken

    def _line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def _answer(self, method: str) -> Answer:
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        status, headers = parse_head(head)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return Answer(status, headers, b"")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self._line().split(b";", 1)[0], 16):
                chunks.append(self._take(size))
                self._take(2)
            while self._line():  # trailers, then the blank line
                pass
            return Answer(status, headers, b"".join(chunks))
        if "content-length" not in headers and headers.get("connection", "").lower() == "close":
            return Answer(status, headers, self._until_closed())
        return Answer(status, headers, self._take(int(headers.get("content-length", "0"))))

    def _until_closed(self) -> bytes:
        try:
            while True:
                self._fill()
        except EOFError:
            pass
        body, self._buffer = self._buffer, b""
        return body
