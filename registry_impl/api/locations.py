"""Absolute or relative Location URLs; an upload's carries the state token the uploads service signs and checks."""

from __future__ import annotations

from registry_spec import urls

from registry_impl.api.context import RequestContext
from registry_impl.services.uploads import sign_upload

__all__ = ["STATE_PARAM", "absolute", "sign_upload", "upload_location"]

STATE_PARAM = "_state"


def absolute(ctx: RequestContext, path: str) -> str:
    """``path`` as the client should see it: relative with ``http.relativeurls``, else on the public host."""
    if ctx.state.relative_urls:
        return path
    if ctx.state.host:
        return ctx.state.host.rstrip("/") + path
    headers = ctx.request.headers
    # the scope's scheme, not request.url's (which builds and parses the whole URL: a third of the cost of
    # a notification event's request record)
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip()
    scheme = forwarded or ctx.request.scope.get("scheme", "http")
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() or headers.get("host", "")
    if not host:
        return path
    return f"{scheme}://{host}{path}"


def upload_location(ctx: RequestContext, name: str, upload_id: str) -> str:
    token = sign_upload(ctx.state.secret, name, upload_id)
    return absolute(ctx, f"{urls.upload(name, upload_id)}?{STATE_PARAM}={token}")
