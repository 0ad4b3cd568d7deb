"""Turn the framework's own validation, routing and media-type failures into registry error codes.

The framework says only *that* a request was invalid; which code applies is found here by
re-checking the request's parameters with the registry's own parsers, in the order the
descriptor declares them, then falling back on the operation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from registry_spec import errors as E
from registry_spec.model import ErrorCode
from registry_spec.params import UUID_MAX_LENGTH, UUID_PATTERN

from registry_impl import errors as D
from registry_impl.api.headers import parse_content_range
from registry_impl.digests import parse_digest
from registry_impl.references import parse_reference, validate_name


def _pagination(value: str) -> None:
    if not value.isdigit():
        raise D.PaginationNumberInvalid(detail={"n": value})


def _upload_id(value: str) -> None:
    if len(value) > UUID_MAX_LENGTH or not re.fullmatch(UUID_PATTERN, value):
        raise D.BlobUploadInvalid("invalid upload id", detail={"uuid": value[:UUID_MAX_LENGTH]})


def _content_range(value: str) -> None:
    parse_content_range(value)


PATH_CHECKS: dict[str, Callable[[str], Any]] = {
    "name": validate_name,
    "reference": parse_reference,
    "digest": parse_digest,
    "uuid": _upload_id,
}
QUERY_CHECKS: dict[str, Callable[[str], Any]] = {
    "n": _pagination,
    "digest": parse_digest,
    "mount": parse_digest,
}
HEADER_CHECKS: dict[str, Callable[[str], Any]] = {"content-range": _content_range}

# When no parameter explains the failure, the operation decides (e.g. a manifest body that does
# not match its schema).
OPERATION_FALLBACK: dict[str, ErrorCode] = {
    "put_manifest": E.MANIFEST_INVALID,
    "start_upload": E.BLOB_UPLOAD_INVALID,
    "patch_upload": E.BLOB_UPLOAD_INVALID,
    "complete_upload": E.BLOB_UPLOAD_INVALID,
    "list_tags": E.PAGINATION_NUMBER_INVALID,
    "list_repositories": E.PAGINATION_NUMBER_INVALID,
}


# Required query values whose absence has a code of its own (a PUT completing an upload without
# ``digest`` is DIGEST_INVALID, as in distribution).
MISSING_QUERY: dict[str, tuple[str, type[D.RegistryError]]] = {
    "complete_upload": ("digest", D.DigestInvalid),
}


def _first_failure(
    values: Mapping[str, str], checks: Mapping[str, Callable[[str], Any]]
) -> D.RegistryError | None:
    for key, check in checks.items():
        value = values.get(key)
        if value is None:
            continue
        try:
            check(value)
        except D.RegistryError as exc:
            return exc
    return None


# Reads of a reference no manifest can have answer "not there", as distribution's router does
# (the OCI conformance suite GETs and HEADs ``.INVALID_MANIFEST_NAME`` and expects 404).
UNKNOWN_ON_READ = frozenset({"get_manifest", "head_manifest"})


def classify(
    operation_id: str,
    path_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    detail: str,
) -> tuple[D.RegistryError | None, ErrorCode]:
    """The domain error that explains a rejected request, or the operation's fallback code."""
    short = operation_id.rsplit(".", 1)[-1]
    for values, checks in ((path_params, PATH_CHECKS), (query, QUERY_CHECKS), (headers, HEADER_CHECKS)):
        found = _first_failure(values, checks)
        if found is not None:
            if short in UNKNOWN_ON_READ and isinstance(found, (D.TagInvalid, D.DigestInvalid)):
                found = D.ManifestUnknown(detail={"reference": path_params.get("reference")})
            return found, E.UNKNOWN
    missing = MISSING_QUERY.get(short)
    if missing is not None and missing[0] not in query:
        return missing[1](f"query parameter {missing[0]!r} is required", detail={}), E.UNKNOWN
    return None, OPERATION_FALLBACK.get(short, E.UNSUPPORTED)
