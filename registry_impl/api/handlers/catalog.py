"""GET /v2/_catalog: sorted repository names, paginated."""

from __future__ import annotations

from starlette.responses import Response

from registry_impl.api.context import current
from registry_impl.api.pages import page_response, paginate


async def list_repositories() -> Response:
    ctx = current()
    query = ctx.request.query_params
    names = ctx.state.registry.repositories()
    page, next_last = paginate(names, query.get("n"), query.get("last"), ctx.state.max_catalog)
    return page_response({"repositories": page}, ctx.request.url.path, len(page), next_last)
