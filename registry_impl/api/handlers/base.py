"""GET /v2/: the API version check."""

from __future__ import annotations

from starlette.responses import Response


async def check() -> Response:
    return Response(b"{}", media_type="application/json")
