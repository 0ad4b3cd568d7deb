"""The ``Link`` header of paginated listings (tags, catalog, referrers): ``<path?last=…&n=…>; rel="next"``.

Only the writing side lives here: clients read ``Link`` with httpx's own RFC 8288 parser
(``httpx.Response.links["next"]["url"]``), which is well kept and needs no copy.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["next_link"]


def next_link(path: str, n: int, last: str) -> str:
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
