"""The one writer of the error envelope, and how a domain exception becomes one.

A domain exception (``registry_impl.errors``) carries its error code; the status is the code's, or that of
the descriptor response the exception names (``answer``), and the headers are those the exception declares
(``headers``). Nothing here maps classes to codes or statuses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from registry_spec import errors as E
from registry_spec.model import ErrorCode
from starlette.responses import Response

from registry_impl import errors as D

log = logging.getLogger("registry.api")

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")


def envelope(
    errors: list[tuple[ErrorCode, str | None, Any]],
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The registry error envelope; the HTTP status is the first error's unless ``status`` is given."""
    body = {
        "errors": [
            {
                "code": code.value,
                "message": message or code.message,
                "detail": {} if detail is None else detail,
            }
            for code, message, detail in errors
        ]
    }
    out = Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status or errors[0][0].status,
        media_type="application/json",
        headers=dict(headers or {}),
    )
    out.headers[API_VERSION_HEADER[0]] = API_VERSION_HEADER[1]
    return out


def error_response(exc: D.RegistryError) -> Response:
    """Render a domain exception: its code, the descriptor's status for it, and its declared headers."""
    status = (exc.answer or exc.code).status
    return envelope([(exc.code, exc.message or None, exc.detail)], status=status, headers=exc.headers)


def unavailable(detail: Any) -> Response:
    """503 UNAVAILABLE while a health check fails (the health gate's answer); ``detail`` names the checks."""
    return envelope([(E.UNAVAILABLE, None, detail)], status=503)


def unknown_error(exc: BaseException, request_id: str = "") -> Response:
    """An unexpected exception: logged with its traceback, answered 500 UNKNOWN without internals."""
    log.error("unhandled error (request %s)", request_id, exc_info=exc)
    return envelope([(E.UNKNOWN, None, {"request_id": request_id} if request_id else None)])
