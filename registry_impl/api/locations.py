"""Absolute or relative Location URLs, and the signed state token carried by upload Locations."""

from __future__ import annotations

import base64
import hashlib
import hmac

from registry_spec import urls

from registry_impl.api.context import RequestContext
from registry_impl.errors import BlobUploadInvalid

STATE_PARAM = "_state"


def absolute(ctx: RequestContext, path: str) -> str:
    """``path`` as the client should see it: relative with ``http.relativeurls``, else on the public host."""
    if ctx.state.relative_urls:
        return path
    if ctx.state.host:
        return ctx.state.host.rstrip("/") + path
    headers = ctx.request.headers
    scheme = headers.get("x-forwarded-proto", "").split(",")[0].strip() or ctx.request.url.scheme
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() or headers.get("host", "")
    if not host:
        return path
    return f"{scheme}://{host}{path}"


def sign_upload(secret: bytes, name: str, upload_id: str) -> str:
    """A token binding an upload to its repository, verifiable by every replica sharing ``http.secret``."""
    mac = hmac.new(secret, f"{name}\n{upload_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode().rstrip("=")


def verify_upload(ctx: RequestContext, name: str, upload_id: str) -> None:
    """Refuse a Location whose state token another secret signed (no token: storage decides)."""
    token = ctx.request.query_params.get(STATE_PARAM)
    if token is None:
        return
    expected = sign_upload(ctx.state.secret, name, upload_id).encode()
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, then a 500).
    if not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected):
        raise BlobUploadInvalid(
            "upload state token does not verify (is http.secret shared by every replica?)",
            detail={"uuid": upload_id},
        )


def upload_location(ctx: RequestContext, name: str, upload_id: str) -> str:
    token = sign_upload(ctx.state.secret, name, upload_id)
    return absolute(ctx, f"{urls.upload(name, upload_id)}?{STATE_PARAM}={token}")
