"""RFC 8288 Link headers as pagination uses them: the target of rel="next", resolved against the request URL."""

from __future__ import annotations

import re

import httpx

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r';\s*rel\s*=\s*"?([^";,]+)"?', re.IGNORECASE)


def next_link(header: str | None, base: httpx.URL | str) -> str | None:
    """The absolute URL of the ``rel="next"`` link in ``header``, or None when there is none."""
    if not header:
        return None
    for match in _LINK.finditer(header):
        rel = _REL.search(match.group(2) or "")
        if rel and "next" in rel.group(1).lower().split():
            return str(httpx.URL(str(base)).join(match.group(1)))
    return None
