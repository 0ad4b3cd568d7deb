"""Request bounds enforced in the application, the same under every server: ``http.limits`` and the request target.

``RequestLimits`` is the outermost middleware (before authentication). It refuses, with the registry
error envelope and without reading the body:

* a request target that is not an absolute path (``CONNECT host:443``, ``OPTIONS *``): 400;
* ``CONNECT``: 405 (a registry is not a proxy);
* a request line longer than ``maxrequestline``: 414;
* more than ``maxheaders`` headers, or more than ``maxheaderbytes`` bytes of names and values: 431.

uvicorn (with ``registry_impl.uvicorn_protocol``) refuses these before the application sees them;
granian bounds only the head's total size (its read buffer), so the exact limits are applied here.

It also watches the request body: waiting more than ``bodytimeout`` for the next piece ends the body
as a disconnect would, and a body cut short (a disconnect, or the timeout) before the application
answered is answered here: 400 ``SIZE_INVALID`` (the body is shorter than its ``Content-Length``), or
408 after the timeout. ``body_cut_short()`` is the same answer for the framework's error handler, when a
handler's body read raised ``ClientDisconnect``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass, field

from registry_spec import errors as E
from registry_spec import params as P
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry_impl.api.errors import envelope
from registry_impl.config import HTTPLimitsConfig
from registry_impl.observability.requestids import observed

__all__ = ["BodyWatch", "RequestLimits", "body_cut_short", "refusal", "start_body"]


@dataclass
class BodyWatch:
    """The request body as the application reads it: whether it ended early, and why."""

    receive: Receive
    timeout: float
    complete: bool = False
    cut_short: bool = False
    timed_out: bool = False
    _started: Awaitable[Message] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Ask for the body's first piece now, before the application does, where the server starts reading
        when ``receive()`` is called (granian); the piece then arrives while the request's checks and storage
        calls run, and the application's first ``read`` takes it. A body the application never reads is
        dropped as it would have been unasked (``discard``). Where ``receive`` is a coroutine function
        (uvicorn, which reads the body ahead by itself, and test clients) nothing is asked early."""
        eager = not inspect.iscoroutinefunction(self.receive)
        if eager and self._started is None and not (self.complete or self.cut_short):
            self._started = self.receive()

    def discard(self) -> None:
        """Drop a first piece asked for and never read (closing it, if it is a coroutine that never ran)."""
        started, self._started = self._started, None
        if inspect.iscoroutine(started):
            started.close()

    async def read(self) -> Message:
        """``receive()``, bounded by ``timeout`` while the body is incomplete."""
        started, self._started = self._started, None
        if self.complete or self.cut_short:
            return await (started if started is not None else self.receive())
        try:
            async with asyncio.timeout(self.timeout):
                message = await (started if started is not None else self.receive())
        except TimeoutError:
            self.cut_short = self.timed_out = True
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            self.complete = not message.get("more_body", False)
        elif message["type"] == "http.disconnect":
            self.cut_short = True
        return message


_watch: ContextVar[BodyWatch | None] = ContextVar("registry_body_watch", default=None)


def start_body() -> None:
    """Ask for the current request's first body piece now (see ``BodyWatch.start``)."""
    watch = _watch.get()
    if watch is not None:
        watch.start()


def body_cut_short() -> Response:
    """The answer to a request whose body ended before its declared length (or timed out)."""
    watch = _watch.get()
    if watch is not None and watch.timed_out:
        return envelope(
            [(E.SIZE_INVALID, "request body not received in time", {"limit": "http.limits.bodytimeout"})],
            status=P.NOT_IN_TIME.status,
        )
    return envelope(
        [(E.SIZE_INVALID, "request body ended before its declared length", None)], status=P.MALFORMED.status
    )


def _too_large(status: int, message: str, key: str, limit: int) -> Response:
    return envelope([(E.UNSUPPORTED, message, {"limit": f"http.limits.{key}", "max": limit})], status=status)


def refusal(scope: Scope, limits: HTTPLimitsConfig) -> Response | None:
    """The answer to a request head outside the limits, or None to let it through."""
    method, path = scope["method"], scope.get("path", "")
    if not path.startswith("/"):
        return envelope(
            [(E.UNSUPPORTED, "the request target must be an absolute path", None)], status=P.MALFORMED.status
        )
    if method == "CONNECT":
        return envelope([(E.UNSUPPORTED, "CONNECT is not supported: this is not a proxy", None)], status=405)
    target = len(scope.get("raw_path") or path.encode("utf-8", "surrogateescape"))
    query = scope.get("query_string", b"")
    line = len(method) + 1 + target + (1 + len(query) if query else 0) + len(" HTTP/1.1")
    if line > limits.maxrequestline:
        return _too_large(
            P.REQUEST_LINE_TOO_LONG.status, "request line too long", "maxrequestline", limits.maxrequestline
        )
    headers = scope.get("headers", [])
    if len(headers) > limits.maxheaders:
        return _too_large(
            P.HEADERS_TOO_LARGE.status, "too many request headers", "maxheaders", limits.maxheaders
        )
    if sum(len(name) + len(value) for name, value in headers) > limits.maxheaderbytes:
        return _too_large(
            P.HEADERS_TOO_LARGE.status,
            "request header fields too large",
            "maxheaderbytes",
            limits.maxheaderbytes,
        )
    return None


class RequestLimits:
    """Outermost middleware: refuses heads outside ``http.limits``, bounds and watches body reads."""

    def __init__(self, app: ASGIApp, limits: HTTPLimitsConfig) -> None:
        self.app = app
        self.limits = limits
        self.body_timeout = limits.bodytimeout.total_seconds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = refusal(scope, self.limits)
        if refused is not None:
            await refused(scope, receive, send)
            return
        watch = BodyWatch(receive, self.body_timeout)
        answer, send_through = observed(send)  # whether the application started an answer
        token = _watch.set(watch)
        try:
            await self.app(scope, watch.read, send_through)
            if not answer.status and watch.cut_short:
                # The application gave up on the body without answering (e.g. a manifest read).
                await body_cut_short()(scope, receive, send)
        finally:
            watch.discard()
            _watch.reset(token)
