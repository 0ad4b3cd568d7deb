"""GET /v2/<name>/tags/list: sorted tags, paginated."""

from __future__ import annotations

from starlette.responses import Response

from registry_impl.api.context import RequestContext, current
from registry_impl.api.pages import page_response, paginate
from registry_impl.api.query import query_of


def fetch(ctx: RequestContext, name: str) -> Response:
    repo = ctx.state.registry.repository(name)
    repo.require()
    query = query_of(ctx.request.scope)
    page, next_last = paginate(repo.tags.all(), query.get("n"), query.get("last"), ctx.state.max_tags)
    return page_response({"name": name, "tags": page}, ctx.request.url.path, len(page), next_last)


async def list_tags(name: str) -> Response:
    ctx = current()
    return await ctx.state.offload.storage(fetch, ctx, name)
