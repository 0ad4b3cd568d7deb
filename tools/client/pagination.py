"""Paginated listings (tags, catalog, referrers): follow ``Link: <…>; rel="next"`` until there is none.

httpx parses the ``Link`` header (``Response.links``); this module only picks the ``next`` relation. A listing
stays on the registry it started at: a Link to another origin (scheme, host, port) stops it with
:class:`~registry_client.errors.ClientError` (following it would merge another server's answers and hand it the
registry's credentials), and so does a listing longer than ``MAX_PAGES`` pages (a registry whose every page links
to a new one would never end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
from registry_client.errors import ClientError
from registry_client.session import Session

__all__ = ["MAX_PAGES", "next_link", "pages"]

#: The most pages one listing follows (at Quay's 100 tags a page, 100 000 tags; the reference registry answers a
#: tag list in one page unless ``n`` is given, its catalog 1 000 repositories a page).
MAX_PAGES = 1000


def next_link(response: httpx.Response) -> str | None:
    """The absolute URL of a response's first ``rel="next"`` link (RFC 8288: ``rel`` may list several
    relation types), resolved against the request URL; None when there is none."""
    for rel, link in response.links.items():
        if rel and "next" in rel.lower().split() and link.get("url"):
            return str(response.request.url.join(link["url"]))
    return None


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def pages(
    session: Session,
    first: str,
    *,
    not_found: str | None = None,
    headers: dict[str, str] | None = None,
    check: Callable[[httpx.Response], None] | None = None,
    max_pages: int = MAX_PAGES,
) -> Iterator[dict[str, Any]]:
    """Each page's JSON document, from ``first`` on; a Link relative to the page resolves against it."""
    url: str | None = session.url(first)
    seen: set[str] = set()
    while url is not None and url not in seen:
        if len(seen) >= max_pages:
            raise ClientError(f"{session.url(first)}: more than {max_pages} pages; stopped")
        seen.add(url)
        response = session.request("GET", url, not_found=not_found, headers=headers)
        if check is not None:
            check(response)
        document = response.json() if response.content else {}
        yield document if isinstance(document, dict) else {}
        url = next_link(response)
        if url is not None and _origin(httpx.URL(url)) != _origin(response.request.url):
            raise ClientError(f"the registry's next page is on another server ({url}); not followed")
