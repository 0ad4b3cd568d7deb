"""Byte ranges: ``Range`` / ``Content-Range`` of blob downloads and of upload sessions (no I/O).

* Blob GET: :func:`parse_range` resolves a ``Range: bytes=…``; :func:`format_content_range` answers it.
* Upload PATCH: :func:`parse_content_range` reads a chunk's ``Content-Range``; the session's ``Range: 0-<last>`` is
  written by :func:`format_range` and read back by :func:`parse_upload_range`.
"""

from __future__ import annotations

import re

from registry_spec.protocol.errors import InvalidRange, RangeNotSatisfiable

__all__ = [
    "HUGE",
    "decimal",
    "format_content_range",
    "format_range",
    "parse_content_range",
    "parse_range",
    "parse_upload_range",
]


# --- Decimal numbers ------------------------------------------------------------------------------

#: Larger than any byte position or count the registry deals in (2**63, Go's int64 overflow).
HUGE = 1 << 63


def decimal(digits: str) -> int:
    """An ASCII digit string as an int; ``HUGE`` when it would be larger (never Python's
    4 300-digit conversion error, whatever a client sends)."""
    significant = digits.lstrip("0")
    return int(significant) if 0 < len(significant) <= 18 else HUGE if significant else 0


# --- Range (blob GET) ---------------------------------------------------------------------------

_BYTE_RANGE_RE = re.compile(r"bytes[ \t]*=[ \t]*(?:([0-9]+)[ \t]*-[ \t]*([0-9]*)|-[ \t]*([0-9]+))", re.I)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Resolve a single ``Range: bytes=...`` against a blob of ``size`` bytes.

    Returns the inclusive ``(start, end)`` to send, with ``end`` clamped to ``size - 1``, or ``None``
    when the whole blob should be sent: no header, a malformed one or a multi-range request (RFC 9110
    lets a server ignore these). Raises :class:`RangeNotSatisfiable` when the range starts at or beyond
    ``size``, asks for an empty suffix, or ends before it starts (``bytes=500-0``: distribution, through
    Go's ``http.ServeContent``, answers 416, and the redesigned OCI conformance suite expects it).
    """
    if header is None:
        return None
    match = _BYTE_RANGE_RE.fullmatch(header.strip())
    if match is None:
        return None
    first, last, suffix = match.groups()
    if suffix is not None:
        length = decimal(suffix)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size, header)
        return max(0, size - length), size - 1
    start = decimal(first)
    end = decimal(last) if last else None
    if end is not None and end < start:
        raise RangeNotSatisfiable(size, header)
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
    ``bytes=<start>-<end>`` are accepted too. Raises :class:`InvalidRange` when malformed, when
    ``end < start``, or when the range does not fit the stated total.
    """
    if header is None or not header.strip():
        return None
    match = _CONTENT_RANGE_RE.fullmatch(header.strip())
    if match is None:
        raise InvalidRange("malformed Content-Range", {"content_range": header})
    start, end = decimal(match[1]), decimal(match[2])
    if end < start:
        raise InvalidRange("Content-Range ends before it starts", {"content_range": header})
    total = match[3]
    if total is not None and total != "*" and end >= decimal(total):
        raise InvalidRange("Content-Range exceeds its total length", {"content_range": header})
    return start, end


def format_range(size: int) -> str:
    """The ``Range`` header of an upload holding ``size`` bytes: ``0-<size-1>``.

    An empty upload answers ``0-0``, as distribution's ``blobUploadResponse`` does: the header
    cannot express an empty range, so ``0-0`` is ambiguous between 0 and 1 byte received.
    """
    if size < 0:
        raise ValueError(f"upload size must not be negative: {size}")
    return f"0-{max(size - 1, 0)}"


_UPLOAD_RANGE_RE = re.compile(r"(?:bytes[ =])?0-([0-9]+)")


def parse_upload_range(value: str | None) -> int:
    """The size an upload session's ``Range: 0-<last>`` reports (``0-0`` is read as empty, see
    :func:`format_range`); raise :class:`InvalidRange` when it is missing or unreadable."""
    match = _UPLOAD_RANGE_RE.fullmatch((value or "").strip())
    if match is None:
        raise InvalidRange("unreadable upload Range", {"range": value})
    last = decimal(match[1])
    return last + 1 if last else 0
