"""Every header example of the descriptor is a value HTTP can carry (ISO-8859-1), so clients and fuzzers can send it."""

from __future__ import annotations

import pytest
from registry_spec.routes import all_params

HEADERS = sorted(
    {(p.name, str(p.example)) for p in all_params() if p.location == "header" and p.example is not None}
)


@pytest.mark.spec
@pytest.mark.parametrize(("name", "example"), HEADERS)
def test_header_example_is_sendable(name: str, example: str) -> None:
    example.encode("latin-1")
    assert "\n" not in example and "\r" not in example, name
