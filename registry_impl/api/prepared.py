"""A response whose headers are already ASGI pairs: the hot reads skip Starlette's header building."""

from __future__ import annotations

from starlette.responses import Response

__all__ = ["PreparedResponse"]


class PreparedResponse(Response):
    """``Response`` from a status, a body and the exact header pairs to send (lower-case names, encoded;
    ``content-length`` and ``content-type`` included by the caller: nothing is added)."""

    def __init__(self, status_code: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = raw_headers
