"""Sans-I/O parsing and formatting of the HTTP headers and query values the registry API uses.

Plain strings in, plain values out; nothing here knows about request or response objects.

* ``Range`` on blob GET: :func:`parse_range`, answered with :func:`format_content_range`.
* ``Content-Range`` on upload PATCH: :func:`parse_content_range`; the upload ``Range``: :func:`format_range`.
* ``n`` and ``last`` on listings: :func:`parse_pagination`; ``Link``: :func:`link_header`,
  :func:`parse_link_header`.
* ``If-None-Match``/``ETag``: :func:`etag_matches`, :func:`format_etag`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from registry_impl.errors import PaginationNumberInvalid, RangeInvalid

__all__ = [
    "RangeNotSatisfiable",
    "etag_matches",
    "format_content_range",
    "format_etag",
    "format_range",
    "link_header",
    "parse_content_range",
    "parse_link_header",
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


# --- Decimal numbers ------------------------------------------------------------------------------

#: Larger than any byte position or count the registry deals in (2**63, Go's int64 overflow).
HUGE = 1 << 63


def _decimal(digits: str) -> int:
    """An ASCII digit string as an int; ``HUGE`` when it would be larger (never Python's
    4 300-digit conversion error, whatever a client sends)."""
    significant = digits.lstrip("0")
    return int(significant) if 0 < len(significant) <= 18 else HUGE if significant else 0


# --- Range (blob GET) ---------------------------------------------------------------------------

_BYTE_RANGE_RE = re.compile(r"bytes[ \t]*=[ \t]*(?:([0-9]+)[ \t]*-[ \t]*([0-9]*)|-[ \t]*([0-9]+))", re.I)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Resolve a single ``Range: bytes=...`` against a blob of ``size`` bytes.

    Returns the inclusive ``(start, end)`` to send, with ``end`` clamped to ``size - 1``, or ``None``
    when the whole blob should be sent: no header, a malformed one, a multi-range request or a
    range whose last position precedes its first (RFC 9110 lets a server ignore all of these).
    Raises :class:`RangeNotSatisfiable` when the range starts at or beyond ``size``, or asks for an
    empty suffix.
    """
    if header is None:
        return None
    match = _BYTE_RANGE_RE.fullmatch(header.strip())
    if match is None:
        return None
    first, last, suffix = match.groups()
    if suffix is not None:
        length = _decimal(suffix)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size, header)
        return max(0, size - length), size - 1
    start = _decimal(first)
    end = _decimal(last) if last else None
    if end is not None and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(size, header)
    return start, size - 1 if end is None else min(end, size - 1)


def format_content_range(start: int, end: int, size: int) -> str:
    """The ``Content-Range`` of a 206 response: ``bytes <start>-<end>/<size>``."""
    return f"bytes {start}-{end}/{size}"


# --- Content-Range and Range (blob upload) -------------------------------------------------------

#: The ``Content-Range`` forms accepted on upload PATCH (the same set as the API descriptor's pattern).
_CONTENT_RANGE_RE = re.compile(r"(?:bytes[ =])?([0-9]+)-([0-9]+)(?:/([0-9]+|\*))?")


def parse_content_range(header: str | None) -> tuple[int, int] | None:
    """Parse an upload chunk's ``Content-Range`` into inclusive ``(start, end)``; ``None`` if absent.

    The registry's own form is ``<start>-<end>``; ``bytes <start>-<end>/<total|*>`` and
    ``bytes=<start>-<end>`` are accepted too. Raises :class:`RangeInvalid` when malformed, when
    ``end < start``, or when the range does not fit the stated total.
    """
    if header is None or not header.strip():
        return None
    match = _CONTENT_RANGE_RE.fullmatch(header.strip())
    if match is None:
        raise RangeInvalid("malformed Content-Range", detail={"content_range": header})
    start, end = _decimal(match[1]), _decimal(match[2])
    if end < start:
        raise RangeInvalid("Content-Range ends before it starts", detail={"content_range": header})
    total = match[3]
    if total is not None and total != "*" and end >= _decimal(total):
        raise RangeInvalid("Content-Range exceeds its total length", detail={"content_range": header})
    return start, end


def format_range(size: int) -> str:
    """The ``Range`` header of an upload holding ``size`` bytes: ``0-<size-1>``.

    An empty upload answers ``0-0``, as distribution's ``blobUploadResponse`` does: the header
    cannot express an empty range, so ``0-0`` is ambiguous between 0 and 1 byte received.
    """
    if size < 0:
        raise ValueError(f"upload size must not be negative: {size}")
    return f"0-{max(size - 1, 0)}"


# --- Pagination and Link -------------------------------------------------------------------------

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
        count = min(_decimal(n), max_n)
    return count, (last or None)


def link_header(path: str, n: int, last: str) -> str:
    """The ``Link`` to the next page: ``<path?last=<last>&n=<n>>; rel="next"``.

    ``path`` may carry a query already; its other parameters are kept, ``n`` and ``last`` replaced,
    and the query is sorted by key and URL-encoded as Go's ``url.Values.Encode`` does.
    """
    parts = urlsplit(path)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("n", "last")]
    params += [("last", last), ("n", str(n))]
    params.sort(key=lambda item: item[0])
    query = urlencode(params)
    return f'<{urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))}>; rel="next"'


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_LINK_PARAM = rf"\s*;\s*({_TOKEN})\s*(?:=\s*({_QUOTED}|[^;,\s]*))?"
_LINK_PARAM_RE = re.compile(_LINK_PARAM)
_LINK_VALUE_RE = re.compile(rf"\s*<([^>]*)>((?:{_LINK_PARAM})*)\s*(?:,|$)")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_link_header(value: str | None) -> str | None:
    """Return the target of the first ``rel="next"`` link in a ``Link`` header (RFC 8288), if any.

    ``rel`` may be quoted or not, in any case, and list several relation types. Parsing stops at the
    first malformed link-value; links before it still count.
    """
    if not value:
        return None
    position = 0
    while position < len(value):
        match = _LINK_VALUE_RE.match(value, position)
        if match is None or match.end() == position:
            return None
        for param in _LINK_PARAM_RE.finditer(match[2]):
            if param[1].lower() == "rel" and "next" in _unquote(param[2] or "").lower().split():
                return match[1]
        position = match.end()
    return None


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
