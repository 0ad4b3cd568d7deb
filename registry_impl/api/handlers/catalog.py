"""GET /v2/_catalog: repository names in distribution's walk order, paginated with a next ``Link``."""

from __future__ import annotations

from starlette.responses import Response

from registry_impl.api.context import RequestContext, current
from registry_impl.api.headers import parse_pagination
from registry_impl.api.pages import page_response
from registry_impl.api.query import query_of


def fetch(ctx: RequestContext) -> Response:
    query = query_of(ctx.request.scope)
    n, last = parse_pagination(query.get("n"), query.get("last"), ctx.state.max_catalog)
    size = ctx.state.max_catalog if n is None else n
    names = ctx.state.registry.repositories(limit=size + 1, after=last) if size else []
    page = names[:size]
    next_last = page[-1] if len(names) > size else None
    return page_response({"repositories": page}, ctx.request.url.path, len(page), next_last)


async def list_repositories() -> Response:
    ctx = current()
    return await ctx.state.offload.storage(fetch, ctx)
