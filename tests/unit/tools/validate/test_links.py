"""Link rel="next" parsing, resolved against the request URL."""

from __future__ import annotations

import pytest
from registry_toolkit.validate.links import next_link

BASE = "http://registry:5000/v2/a/tags/list?n=2"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('</v2/a/tags/list?n=2&last=b>; rel="next"', "http://registry:5000/v2/a/tags/list?n=2&last=b"),
        ("<https://other/v2/_catalog?last=x&n=1>; rel=next", "https://other/v2/_catalog?last=x&n=1"),
        (
            '<http://x/prev>; rel="prev", </v2/a/tags/list?last=c>; rel="next"',
            "http://registry:5000/v2/a/tags/list?last=c",
        ),
        ('<http://x/y>; title="t"; rel="next last"', "http://x/y"),
        ('</v2/a/tags/list?last=b>; rel="prev"', None),
        ("", None),
        (None, None),
    ],
)
def test_next_link(header: str | None, expected: str | None) -> None:
    assert next_link(header, BASE) == expected
