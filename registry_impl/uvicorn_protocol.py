"""uvicorn's httptools protocol with the bounds of ``http.limits`` that uvicorn itself does not enforce.

uvicorn (httptools) reads a request head of any size and any number of headers, waits forever for a
connection that never sends a byte or sends its head one byte at a time, and serves an HTTP/0.9 request
line. This protocol, selected with ``uvicorn.run(http=BoundedHttpToolsProtocol)``, adds:

* ``maxrequestline``: a longer request target is refused 414 before the head is read further;
* ``maxheaders`` / ``maxheaderbytes``: more headers, or more bytes of names and values, are refused 431,
  and the raw head is never buffered beyond their sum (plus framing);
* ``idletimeout``: also for a fresh connection that sends nothing (uvicorn arms it only after an answer);
* ``headertimeout``: the whole head must arrive within it once its first byte has (408, then close);
* ``maxconnections``: a connection beyond it is closed at once (uvicorn's ``limit_concurrency`` would
  answer 503 to requests instead);
* only HTTP/1.0 and HTTP/1.1 request lines are served (400 otherwise).

Each refusal is one short answer with ``Connection: close``; the limits come from the registry
configuration this process was started with (``REGISTRY_CONFIGURATION_PATH``, as the application's).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from typing import Any

from registry_spec import errors as E
from registry_spec import params as P
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from registry_impl.config import HTTPLimitsConfig, load_config

__all__ = ["BoundedHttpToolsProtocol", "configured_limits"]

CONFIG_ENV = "REGISTRY_CONFIGURATION_PATH"  # the variable registry_impl.server sets for its workers
_FRAMING_PER_HEADER = 8  # ": ", CRLF and a little optional whitespace around a value
_HTTP_VERSIONS = ("1.0", "1.1")


@functools.cache
def configured_limits() -> HTTPLimitsConfig:
    """``http.limits`` of the configuration this worker serves (read once per process)."""
    return load_config(os.environ.get(CONFIG_ENV) or None).http.limits


class _Refused(Exception):
    """Raised from a parser callback: the request is answered ``status`` and the connection closed."""

    def __init__(self, status: int, message: str, key: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key
        self.limit = limit


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol refusing oversized, slow or non-HTTP/1.x request heads (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = configured_limits()
        self.limits = limits
        self.head_budget = (
            limits.maxrequestline + limits.maxheaderbytes + _FRAMING_PER_HEADER * limits.maxheaders
        )
        self.in_head = True
        self.head_bytes = 0
        self.header_count = 0
        self.header_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.refusal: _Refused | None = None

    # --- connection --------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.maxconnections:
            self.transport = transport
            transport.close()
            return
        super().connection_made(transport)
        # uvicorn arms its keep-alive timer only after an answer; a silent new connection is idle too.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if not self.in_head:
            super().data_received(data)
            return
        self._arm_head_timer()  # the parser skips blank lines without beginning a message
        room = self.head_budget - self.head_bytes
        head, rest = data[:room], data[room:]
        self.head_bytes += len(head)
        super().data_received(head)
        if rest and not self.transport.is_closing():
            if self.in_head:
                self._write_refusal(
                    _Refused(
                        P.HEADERS_TOO_LARGE.status,
                        "request head too large",
                        "http.limits.maxheaderbytes",
                        self.limits.maxheaderbytes,
                    )
                )
                return
            super().data_received(rest)

    # --- parser callbacks --------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.header_count = self.header_bytes = 0
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.maxrequestline:
            self._refuse(
                P.REQUEST_LINE_TOO_LONG.status,
                "request target too long",
                "http.limits.maxrequestline",
                self.limits.maxrequestline,
            )

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        self.header_bytes += len(name) + len(value)
        if self.header_count > self.limits.maxheaders:
            self._refuse(
                P.HEADERS_TOO_LARGE.status,
                "too many request headers",
                "http.limits.maxheaders",
                self.limits.maxheaders,
            )
        if self.header_bytes > self.limits.maxheaderbytes:
            self._refuse(
                P.HEADERS_TOO_LARGE.status,
                "request header fields too large",
                "http.limits.maxheaderbytes",
                self.limits.maxheaderbytes,
            )
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        self.in_head = False
        version = self.parser.get_http_version()
        if version not in _HTTP_VERSIONS:
            self._refuse(
                P.MALFORMED.status, f"HTTP/{version} is not supported", "", None
            )  # 400, not 505: the client's fault
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.in_head = True
        self.head_bytes = 0
        super().on_message_complete()

    # --- refusals ----------------------------------------------------------------------------------

    def _refuse(self, status: int, message: str, key: str, limit: int | None) -> None:
        """Stop parsing: httptools turns the exception into a parser error, answered below."""
        self.refusal = _Refused(status, message, key, limit)
        raise self.refusal

    def send_400_response(self, msg: str) -> None:
        refusal, self.refusal = self.refusal, None
        if refusal is None:
            super().send_400_response(msg)
        else:
            self._write_refusal(refusal)

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.in_head and not self.transport.is_closing():
            self._write_refusal(
                _Refused(
                    P.NOT_IN_TIME.status,
                    "request head not received in time",
                    "http.limits.headertimeout",
                    None,
                )
            )

    def _arm_head_timer(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(
                self.limits.headertimeout.total_seconds(), self._head_timed_out
            )

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _write_refusal(self, refusal: _Refused) -> None:
        detail: dict[str, Any] = {"limit": refusal.key} if refusal.key else {}
        if refusal.limit is not None:
            detail["max"] = refusal.limit
        body = json.dumps(
            {"errors": [{"code": E.UNSUPPORTED.value, "message": refusal.message, "detail": detail}]},
            separators=(",", ":"),
        ).encode()
        head = [
            STATUS_LINE[refusal.status],
            b"content-type: application/json\r\n",
            b"docker-distribution-api-version: registry/2.0\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
