"""GET /v2/<name>/tags/list: sorted tags, paginated when the client asks with ``n`` or past ``tags.maxtags``."""

from __future__ import annotations

from starlette.responses import Response

from registry_impl.api.context import current
from registry_impl.api.pages import page_response, paginate
from registry_impl.api.query import query_of
from registry_impl.services import listings


async def list_tags(name: str) -> Response:
    ctx = current()
    tags = await listings.list_tags(ctx.state, name)
    query = query_of(ctx.request.scope)
    # max_tags 0 (the default): no maximum, so a list without n names every tag, as distribution's does.
    maximum = ctx.state.max_tags or len(tags)
    page, next_last = paginate(tags, query.get("n"), query.get("last"), maximum)
    return page_response({"name": name, "tags": page}, ctx.request, len(page), next_last)
