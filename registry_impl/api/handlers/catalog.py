"""GET /v2/_catalog: repository names in distribution's walk order, paginated with a next ``Link``
(``registry_impl.services.listings``)."""

from __future__ import annotations

from starlette.responses import Response

from registry_impl.api.context import current
from registry_impl.api.headers import parse_pagination
from registry_impl.api.pages import page_response
from registry_impl.api.query import query_of
from registry_impl.services import listings


async def list_repositories() -> Response:
    ctx = current()
    query = query_of(ctx.request.scope)
    n, last = parse_pagination(query.get("n"), query.get("last"), ctx.state.max_catalog)
    page = await listings.list_repositories(ctx.state, n, last)
    return page_response({"repositories": page.items}, ctx.request, len(page.items), page.next_last)
