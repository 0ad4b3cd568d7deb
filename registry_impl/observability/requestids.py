"""A request id per request: an incoming ``X-Request-Id`` is honoured (when sane), else one is made;
it is returned in the response's ``X-Request-Id`` and readable from ``request_id()`` on every log line
of the request (threads the request offloads to inherit it)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "RequestIds", "request_id"]

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")
_current: ContextVar[str] = ContextVar("registry_request_id", default="")


def request_id() -> str:
    """The id of the request being handled ("" outside one)."""
    return _current.get()


class RequestIds:
    """Outermost middleware: sets the request id for everything inside, and answers it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", ()) if k.lower() == HEADER), b"")
        rid = given.decode("ascii") if _SANE.fullmatch(given) else uuid.uuid4().hex
        header = (HEADER, rid.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = _current.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
