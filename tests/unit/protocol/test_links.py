"""The Link header of listings: written by the protocol core, read back by httpx's own parser."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from hypothesis import given
from hypothesis import strategies as st
from registry_spec.protocol.links import next_link


def test_shape() -> None:
    assert next_link("/v2/name/tags/list", 2, "x") == '</v2/name/tags/list?last=x&n=2>; rel="next"'


def test_encodes_last_and_replaces_an_existing_query() -> None:
    link = next_link("/v2/_catalog?n=5&last=old&a=1", 3, "foo/bar baz")
    assert link == '</v2/_catalog?a=1&last=foo%2Fbar+baz&n=3>; rel="next"'


@given(st.text(), st.integers(0, 10**6))
def test_httpx_reads_back_what_the_core_writes(last: str, n: int) -> None:
    response = httpx.Response(200, headers={"Link": next_link("/v2/a/b/tags/list", n, last)})
    parts = urlsplit(response.links["next"]["url"])
    assert parts.path == "/v2/a/b/tags/list"
    assert parse_qs(parts.query, keep_blank_values=True) == {"last": [last], "n": [str(n)]}
