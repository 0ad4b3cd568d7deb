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
    forwarded = _forwarded(headers.get("forwarded", ""))
    scheme = (
        headers.get("x-forwarded-proto", "").split(",")[0].strip()
        or forwarded.get("proto")
        or ctx.request.scope.get("scheme", "http")
    )
    host = (
        headers.get("x-forwarded-host", "").split(",")[0].strip()
        or forwarded.get("host")
        or headers.get("host", "")
    )
    if not host:
        return path
    return f"{scheme}://{host}{path}"


def _forwarded(value: str) -> dict[str, str]:
    """The parameters of the first (the client-side) element of an RFC 7239 ``Forwarded`` header, as
    distribution reads it after ``X-Forwarded-Proto``/``-Host`` (``proto=https;host=front.example``)."""
    if not value:
        return {}
    pairs = {}
    for pair in value.split(",", 1)[0].split(";"):
        key, sep, item = pair.partition("=")
        if sep:
            pairs[key.strip().lower()] = item.strip().strip('"')
    return pairs


def upload_location(ctx: RequestContext, name: str, upload_id: str) -> str:
    token = sign_upload(ctx.state.secret, name, upload_id)
    return absolute(ctx, f"{urls.upload(name, upload_id)}?{STATE_PARAM}={token}")
