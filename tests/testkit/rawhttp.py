"""A raw-socket HTTP/1.x client for hostile requests: sends exact bytes, reads whatever comes back, never hangs.

``exchange(host, port, payload)`` writes the bytes as given (a sequence of parts may be paced with
``pause``), optionally half-closes, and reads one response (or the connection's close) until ``timeout``.
The result says what happened: a parsed status line, headers and body; a close without an answer; or a
timeout. Nothing here follows HTTP rules on the sending side: that is the point.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RawResponse", "exchange", "request_bytes"]

_READ = 65536


@dataclass
class RawResponse:
    """What one exchange produced.

    ``status`` is None when no status line arrived; then ``closed`` (the server closed or reset the
    connection) or ``timed_out`` (nothing within the bound) says why. ``complete`` is true when the
    body was read to its declared end.
    """

    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    closed: bool = False
    timed_out: bool = False
    complete: bool = False
    elapsed: float = 0.0
    raw: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)

    def describe(self) -> str:
        """One line for assertion messages."""
        if self.status is None:
            what = (
                "timed out" if self.timed_out else "closed without an answer" if self.closed else "no answer"
            )
            return f"{what} after {self.elapsed:.2f}s ({self.raw[:80]!r})"
        return f"{self.status} {self.reason} after {self.elapsed:.2f}s: {self.body[:300]!r}"


def request_bytes(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
    host: str = "127.0.0.1",
) -> bytes:
    """An HTTP/1.x request as bytes: ``Host`` and ``Connection: close`` are added unless given."""
    names = {name.lower() for name, _ in headers}
    lines = [f"{method} {target} {version}".encode("latin-1", "surrogateescape")]
    if "host" not in names:
        lines.append(f"Host: {host}".encode())
    if "connection" not in names:
        lines.append(b"Connection: close")
    lines += [f"{name}: {value}".encode("latin-1", "surrogateescape") for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(
    host: str,
    port: int,
    payload: bytes | Sequence[bytes],
    *,
    timeout: float = 2.0,
    pause: float = 0.0,
    half_close: bool = False,
    head: bool = False,
) -> RawResponse:
    """Send ``payload`` (parts ``pause`` seconds apart), half-close if asked, and read one response.

    Returns as soon as a whole response is read, the server closes, or ``timeout`` seconds have
    passed since the connection opened (then ``timed_out``). ``head`` means the response has no body.
    """
    parts = [payload] if isinstance(payload, bytes) else list(payload)
    out = RawResponse()
    started = time.monotonic()
    deadline = started + timeout
    buffer = bytearray()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for i, part in enumerate(parts):
                if i and pause:
                    time.sleep(pause)
                sock.sendall(part)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may refuse and close before reading everything; read what it said
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                out.timed_out = True
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(_READ)
            except TimeoutError:
                out.timed_out = True
                break
            except OSError:
                out.closed = True
                break
            if not chunk:
                out.closed = True
                break
            buffer += chunk
            if _parse(bytes(buffer), out, head):
                break
    _parse(bytes(buffer), out, head)
    out.raw = bytes(buffer)
    out.elapsed = time.monotonic() - started
    return out


def _parse(data: bytes, out: RawResponse, head: bool) -> bool:
    """Fill ``out`` from ``data``; true once the response is complete."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    lines = data[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return False
    if parts[1].startswith("1") and parts[1] != "101":
        return _parse(data[end + 4 :], out, head)  # an interim answer (100 Continue): the real one follows
    out.status, out.reason = int(parts[1]), parts[2] if len(parts) > 2 else ""
    out.headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    rest = data[end + 4 :]
    if head or out.status in (204, 304) or 100 <= out.status < 200:
        out.body, out.complete = b"", True
        return True
    length = out.header("content-length")
    if length is not None and length.isdigit():
        out.body = rest[: int(length)]
        out.complete = len(rest) >= int(length)
        return out.complete
    if (out.header("transfer-encoding") or "").lower() == "chunked":
        out.body, out.complete = _dechunk(rest)
        return out.complete
    out.body = rest  # delimited by the close
    return False


def _dechunk(data: bytes) -> tuple[bytes, bool]:
    body = bytearray()
    position = 0
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return bytes(body), False
        size_text = data[position:line_end].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return bytes(body), False
        if size == 0:
            return bytes(body), data.find(b"\r\n", line_end + 2) >= 0
        start = line_end + 2
        if len(data) < start + size + 2:
            return bytes(body), False
        body += data[start : start + size]
        position = start + size + 2
