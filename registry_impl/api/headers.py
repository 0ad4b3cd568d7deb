"""Sans-I/O parsing and formatting of the HTTP headers and query values the registry API uses.

Plain strings in, plain values out; nothing here knows about request or response objects.

* ``Range`` on blob GET: :func:`parse_range`, answered with :func:`format_content_range`.
* ``Content-Range`` on upload PATCH: :func:`parse_content_range`; the upload ``Range``: :func:`format_range`.
* ``n`` and ``last`` on listings: :func:`parse_pagination`. ``Link`` is written by
  :func:`registry_spec.protocol.links.next_link`.
* ``Accept``: :func:`parse_accept`; ``If-None-Match``/``ETag``: :func:`etag_matches`, :func:`format_etag`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from registry_spec.protocol import errors as _core_errors
from registry_spec.protocol import ranges as _ranges
from registry_spec.protocol.ranges import decimal, format_content_range, format_range

from registry_impl.errors import PaginationNumberInvalid, RangeInvalid

__all__ = [
    "RangeNotSatisfiable",
    "etag_matches",
    "format_content_range",
    "format_etag",
    "format_range",
    "parse_accept",
    "parse_content_range",
    "parse_pagination",
    "parse_range",
]


class RangeNotSatisfiable(RangeInvalid):
    """A well-formed ``Range`` that selects no byte of the blob (answered with 416)."""

    def __init__(self, size: int, header: str) -> None:
        super().__init__("requested range not satisfiable", detail={"range": header, "size": size})
        self.size = size

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

_DIGITS_RE = re.compile(r"[0-9]+")


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
        if not _DIGITS_RE.fullmatch(n):
            raise PaginationNumberInvalid("n must be a non-negative integer", detail={"n": n})
        count = min(decimal(n), max_n)
    return count, (last or None)


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


# --- Accept --------------------------------------------------------------------------------------

_QVALUE_RE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def _accept_entry(element: str) -> tuple[str, float] | None:
    """Parse one ``type/subtype;params`` element into its lowercased type and q-value."""
    media_type, *params = (part.strip() for part in element.split(";"))
    kind, slash, subtype = media_type.partition("/")
    if not (slash and re.fullmatch(_TOKEN, kind) and re.fullmatch(_TOKEN, subtype)):
        return None
    quality = 1.0
    for param in params:
        key, _, raw = param.partition("=")
        if key.strip().lower() == "q":
            raw = raw.strip()
            quality = float(raw) if _QVALUE_RE.fullmatch(raw) else 1.0
    return media_type.lower(), quality


def parse_accept(header: str | Iterable[str] | None) -> list[str]:
    """List the media types of one or more ``Accept`` headers, most preferred first.

    Comma lists and repeated headers are merged in order; parameters are stripped and types
    lowercased (as Go's ``mime.ParseMediaType`` does for distribution); entries are sorted by
    q-value, highest first, keeping header order among equals. Entries with ``q=0`` (not acceptable)
    and malformed entries are dropped, and so are repeats; a malformed q-value counts as 1.
    """
    if header is None:
        return []
    headers = [header] if isinstance(header, str) else list(header)
    entries = [_accept_entry(element) for value in headers for element in value.split(",")]
    ranked = sorted((entry for entry in entries if entry is not None), key=lambda entry: -entry[1])
    return list(dict.fromkeys(media_type for media_type, quality in ranked if quality > 0))


# --- ETag ----------------------------------------------------------------------------------------


def format_etag(digest: str) -> str:
    """The ``ETag`` distribution sends for content addressed by ``digest``: the digest, quoted."""
    return f'"{digest}"'


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
