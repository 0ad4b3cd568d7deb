"""GET /v2/: the API version check; GET and HEAD /: the liveness probe."""

from __future__ import annotations

from starlette.responses import Response


async def check() -> Response:
    return Response(b"{}", media_type="application/json")


async def alive() -> Response:
    """GET /: distribution's liveness answer (200, no body, ``Cache-Control: no-cache``)."""
    return Response(b"", headers={"Cache-Control": "no-cache"})


async def alive_head() -> Response:
    """HEAD /: the same answer, for load balancers that probe with HEAD."""
    return Response(b"", headers={"Cache-Control": "no-cache"})
