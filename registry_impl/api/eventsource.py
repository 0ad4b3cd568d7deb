"""The request record of notification events, read from the request being handled (``context.current``)."""

from __future__ import annotations

import uuid

from registry_impl.api.authorization import GRANT_KEY
from registry_impl.api.context import current
from registry_impl.api.locations import absolute
from registry_impl.notifications import RequestRecord
from registry_impl.observability.requestids import request_id

__all__ = ["request_record"]


def request_record() -> RequestRecord:
    """Who asked for what: distribution's ``RequestRecord`` (id, addr, host, method, useragent), the actor
    (the authenticated user) and the base of the events' URLs (as the request's own Locations)."""
    ctx = current()
    scope = ctx.request.scope
    client = scope.get("client")
    headers = ctx.request.headers
    grant = scope.get(GRANT_KEY)
    return RequestRecord(
        id=request_id() or str(uuid.uuid4()),  # the X-Request-Id of the logs, as distribution's context id
        addr=f"{client[0]}:{client[1]}" if client else "",
        host=headers.get("host", ""),
        method=scope["method"],
        useragent=headers.get("user-agent", ""),
        actor=str(getattr(grant, "user", "") or ""),
        base_url=absolute(ctx, ""),
    )
