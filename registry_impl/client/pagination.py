"""Paginated listings (tags, catalog, referrers): follow ``Link: <…>; rel="next"`` until there is none."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from registry_impl.client.session import Session

__all__ = ["next_link", "pages"]

_LINK_RE = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,]+?(?:=(?:"[^"]*"|[^;,]*))?)*)\s*(?:,|$)')
_REL_RE = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))', re.IGNORECASE)


def next_link(value: str | None) -> str | None:
    """The target of the first ``rel="next"`` link of a ``Link`` header (RFC 8288), or None."""
    for match in _LINK_RE.finditer(value or ""):
        for rel in _REL_RE.finditer(match[2]):
            if "next" in (rel[1] if rel[1] is not None else rel[2]).lower().split():
                return match[1]
    return None


def pages(
    session: Session,
    first: str,
    *,
    not_found: str | None = None,
    headers: dict[str, str] | None = None,
    check: Callable[[httpx.Response], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Each page's JSON document, from ``first`` on; a Link relative to the page resolves against it."""
    url: str | None = session.url(first)
    seen: set[str] = set()
    while url is not None and url not in seen:
        seen.add(url)
        response = session.request("GET", url, not_found=not_found, headers=headers)
        if check is not None:
            check(response)
        document = response.json() if response.content else {}
        yield document if isinstance(document, dict) else {}
        link = next_link(response.headers.get("link"))
        url = str(httpx.URL(url).join(link)) if link else None
