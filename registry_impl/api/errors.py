"""The one table from domain exceptions to error codes, and the one writer of the error envelope."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from registry_spec import errors as E
from registry_spec.model import ErrorCode
from starlette.responses import Response

from registry_impl import errors as D
from registry_impl.api.headers import RangeNotSatisfiable

log = logging.getLogger("registry.api")

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")

CODES: dict[type[D.RegistryError], ErrorCode] = {
    D.NameInvalid: E.NAME_INVALID,
    D.NameUnknown: E.NAME_UNKNOWN,
    D.TagInvalid: E.TAG_INVALID,
    D.DigestInvalid: E.DIGEST_INVALID,
    D.SizeInvalid: E.SIZE_INVALID,
    D.RangeInvalid: E.RANGE_INVALID,
    D.BlobUnknown: E.BLOB_UNKNOWN,
    D.BlobUploadUnknown: E.BLOB_UPLOAD_UNKNOWN,
    D.BlobUploadInvalid: E.BLOB_UPLOAD_INVALID,
    D.ManifestUnknown: E.MANIFEST_UNKNOWN,
    D.ManifestInvalid: E.MANIFEST_INVALID,
    D.ManifestBlobUnknown: E.MANIFEST_BLOB_UNKNOWN,
    D.ManifestUnverified: E.MANIFEST_UNVERIFIED,
    D.PaginationNumberInvalid: E.PAGINATION_NUMBER_INVALID,
    D.Unsupported: E.UNSUPPORTED,
    D.Unauthorized: E.UNAUTHORIZED,
    D.Denied: E.DENIED,
    D.TooManyRequests: E.TOOMANYREQUESTS,
    D.Unavailable: E.UNAVAILABLE,
}


def code_for(exc: D.RegistryError) -> ErrorCode:
    """The error code of a domain exception (its nearest mapped class)."""
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]  # type: ignore[index]
    return E.UNKNOWN


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
    """Render a domain exception (``status`` and ``headers`` attributes, when set, are honoured)."""
    status = getattr(exc, "status", None)
    headers = dict(getattr(exc, "headers", None) or {})
    if isinstance(exc, RangeNotSatisfiable):
        headers["Content-Range"] = exc.content_range
    return envelope([(code_for(exc), exc.message or None, exc.detail)], status=status, headers=headers)


def unknown_error(exc: BaseException, request_id: str = "") -> Response:
    """An unexpected exception: logged with its traceback, answered 500 UNKNOWN without internals."""
    log.error("unhandled error (request %s)", request_id, exc_info=exc)
    return envelope([(E.UNKNOWN, None, {"request_id": request_id} if request_id else None)])
