"""Pagination of sorted name lists (tags, repositories) with an RFC 5988 next link."""

from __future__ import annotations

from typing import Any

import orjson
from registry_spec.protocol.links import next_link
from starlette.requests import Request
from starlette.responses import Response

from registry_impl.api.headers import parse_pagination


def paginate(
    items: list[str], n_raw: str | None, last_raw: str | None, maximum: int
) -> tuple[list[str], str | None]:
    """The page after ``last`` of at most ``n`` items, and the last item shown when more follow."""
    n, last = parse_pagination(n_raw, last_raw, maximum)
    if last:
        items = [item for item in items if item > last]
    if n is None:
        n = len(items) if n_raw is None and len(items) <= maximum else maximum
    page = items[:n]
    more = len(items) > n and n > 0
    return page, (page[-1] if more else None)


def page_response(body: dict[str, Any], request: Request, n: int, next_last: str | None) -> Response:
    """The page as JSON, with a ``Link`` to the next one (on ``request``'s path) when more follow."""
    headers = {"Link": next_link(request.url.path, n, next_last)} if next_last is not None else {}
    # The compact form json.dumps(separators=(",", ":")) gives, byte for byte (names are ASCII).
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
