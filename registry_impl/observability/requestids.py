"""A request id per request: an incoming ``X-Request-Id`` is honoured (when sane), else one is made;
it is returned in the response's ``X-Request-Id`` and readable from ``request_id()`` on every log line
of the request (threads the request offloads to inherit it). The authenticated user is noted beside
it (``note_user``) for the access log."""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from random import getrandbits  # an id, not a secret: no system call per request

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "RequestIds", "RequestInfo", "current_request", "note_user", "observed", "request_id"]

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")


@dataclass(slots=True)
class RequestInfo:
    """The request's id, who it authenticated as, and its answer as it went out: the status and the
    body size (negative: taken from ``Content-Length``). The access log and the metrics read these rather
    than each wrapping ``send`` again."""

    id: str
    user: str = ""
    status: int = 0
    size: int = 0

    def observe(self, message: Message) -> None:
        """Note what a response message says (called for every message the application sends)."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", ()):
                if name == b"content-length" and value.isdigit():
                    self.size = -int(value)
        elif self.size >= 0 and message["type"] == "http.response.body":
            self.size += len(message.get("body", b""))


_current: ContextVar[RequestInfo | None] = ContextVar("registry_request_info", default=None)


def current_request() -> RequestInfo | None:
    return _current.get()


def observed(send: Send) -> tuple[RequestInfo, Send]:
    """The request's record and the ``send`` to answer through: under ``RequestIds`` its record and ``send``
    itself; otherwise (a bare app in tests) a fresh record that a wrapped ``send`` fills with the answer."""
    info = _current.get()
    if info is not None:
        return info, send
    fresh = RequestInfo("")

    async def observing_send(message: Message) -> None:
        fresh.observe(message)
        await send(message)

    return fresh, observing_send


def request_id() -> str:
    """The id of the request being handled ("" outside one)."""
    info = _current.get()
    return info.id if info is not None else ""


def note_user(user: str) -> None:
    """Remember who the request authenticated as (for the access log)."""
    info = _current.get()
    if info is not None:
        info.user = user


class RequestIds:
    """Outermost middleware: sets the request id for everything inside, and answers it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for name, value in scope.get("headers", ()):
            if name == HEADER:  # ASGI header names are lowercase
                rid = value.decode("ascii") if _SANE.fullmatch(value) else ""
                break
        rid = rid or f"{getrandbits(128):032x}"
        header = (HEADER, rid.encode("ascii"))
        info = RequestInfo(rid)

        async def send_with_id(message: Message) -> None:
            info.observe(message)
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = _current.set(info)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
