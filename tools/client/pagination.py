"""Paginated listings (tags, catalog, referrers): follow ``Link: <…>; rel="next"`` until there is none.

httpx parses the ``Link`` header (``Response.links``); this module only picks the ``next`` relation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
from registry_client.session import Session

__all__ = ["next_link", "pages"]

def next_link(response: httpx.Response) -> str | None:
    """The absolute URL of a response's first ``rel="next"`` link (RFC 8288: ``rel`` may list several
    relation types), resolved against the request URL; None when there is none."""
    for rel, link in response.links.items():
        if rel and "next" in rel.lower().split() and link.get("url"):
            return str(response.request.url.join(link["url"]))
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
        url = next_link(response)
