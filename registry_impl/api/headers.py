"""Sans-I/O parsing and formatting of the HTTP headers and query values the registry API uses.

Plain strings in, plain values out; nothing here knows about request or response objects.

* ``Range`` on blob GET: :func:`parse_range`, answered with :func:`format_content_range`.
* ``Content-Range`` on upload PATCH: :func:`parse_content_range`; the upload ``Range``: :func:`format_range`.
* ``n`` and ``last`` on listings: :func:`parse_pagination`. ``Link`` is written by
  :func:`registry_spec.protocol.links.next_link`.
* ``If-None-Match``/``ETag``: :func:`etag_matches`, :func:`format_etag`.
"""

from __future__ import annotations

import re

from registry_spec import params as P
from registry_spec.protocol import errors as _core_errors
from registry_spec.protocol import ranges as _ranges
from registry_spec.protocol.ranges import decimal, format_content_range, format_range
from registry_spec.router import valid_value

from registry_impl.errors import PaginationNumberInvalid, RangeInvalid

__all__ = [
    "RangeNotSatisfiable",
    "etag_matches",
    "format_content_range",
    "format_etag",
    "format_range",
    "parse_content_range",
    "parse_pagination",
    "parse_range",
]


class RangeNotSatisfiable(RangeInvalid):
    """A well-formed ``Range`` that selects no byte of the blob (answered with 416)."""

    def __init__(self, size: int, header: str) -> None:
        super().__init__("requested range not satisfiable", detail={"range": header, "size": size})
        self.size = size
        self.headers = {"Content-Range": self.content_range}

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` value a 416 response carries: ``bytes */<size>``."""
        return f"bytes */{self.size}"


# --- Range and Content-Range: the protocol core's, with the server's errors ---------------------


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """:func:`registry_spec.protocol.ranges.parse_range`, raising the server's :class:`RangeNotSatisfiable`."""
    try:
        return _ranges.parse_range(header, size)
    except _core_errors.RangeNotSatisfiable as exc:
        raise RangeNotSatisfiable(exc.size, header or "") from exc


def parse_content_range(header: str | None) -> tuple[int, int] | None:
    """:func:`registry_spec.protocol.ranges.parse_content_range`, raising :class:`RangeInvalid`."""
    try:
        return _ranges.parse_content_range(header)
    except _core_errors.InvalidRange as exc:
        raise RangeInvalid(exc.message, detail=exc.detail) from exc


# --- Pagination -------------------------------------------------------------------------------

_VALID_N = valid_value(P.PAGE_N)  # the descriptor's grammar of ``n``


def parse_pagination(n: str | None, last: str | None, max_n: int) -> tuple[int | None, str | None]:
    """Validate the ``n`` and ``last`` query values of a tag or catalog listing.

    ``n`` absent or empty gives ``None`` (the caller's default applies). ``n=0`` is valid and means
    an empty list with no ``Link`` (distribution-spec 1.1, "Listing Tags"). An ``n`` above ``max_n``
    is clamped to ``max_n``: the spec lets a registry return fewer results when it sends a ``Link``.
    Anything but a non-negative decimal integer raises :class:`PaginationNumberInvalid`.
    ``last`` is passed through (``None`` when absent or empty); it need not name an existing entry.
    """
    count: int | None = None
    if n is not None and n != "":
        if not _VALID_N(n):
            raise PaginationNumberInvalid("n must be a non-negative integer", detail={"n": n})
        count = min(decimal(n), max_n)
    return count, (last or None)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


# --- ETag ----------------------------------------------------------------------------------------


def format_etag(digest: str) -> str:
    """The ``ETag`` distribution sends for content addressed by ``digest``: the digest, quoted."""
    return f'"{digest}"'


def range_applies(if_range: str | None, digest: str) -> bool:
    """Whether a ``Range`` is honoured under ``If-Range`` (RFC 9110 §13.1.5): without it, or when it is the
    content's entity-tag exactly (a strong comparison: no ``W/``). A date never matches, as no
    ``Last-Modified`` is sent; a Range that does not apply is ignored and the whole content served."""
    return if_range is None or if_range.strip() == format_etag(digest)


def etag_matches(if_none_match: str | None, digest: str) -> bool:
    """Whether an ``If-None-Match`` value matches the content of ``digest`` (so 304 applies).

    ``*`` matches anything; otherwise each comma-separated entity-tag is compared weakly (a ``W/``
    prefix is ignored, as RFC 9110 prescribes for ``If-None-Match``), quoted or not.
    """
    if not if_none_match:
        return False
    wanted = _unquote(digest.strip())
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        if tag[:2] in ("W/", "w/"):
            tag = tag[2:]
        if _unquote(tag) == wanted:
            return True
    return False
