"""The query parsed once: repeated single-valued parameters refused, one parse kept per request."""

from __future__ import annotations

import pytest
from registry_spec.routes import ROUTES

from registry_impl.api.query import QUERY_KEY, SINGLE_VALUED, parse_query, query_of
from registry_impl.errors import DigestInvalid, NameInvalid, PaginationNumberInvalid, RegistryError

DIGEST = "sha256:" + "a" * 64


def test_values_are_decoded_like_starlette() -> None:
    assert dict(parse_query(b"mount=sha256%3Aab&fr%6Fm=a%2Fb&n=&x=1&x=2")) == {
        "mount": "sha256:ab",
        "from": "a/b",
        "n": "",
        "x": "2",  # not single-valued: the last value, as request.query_params.get gives
    }
    assert dict(parse_query("")) == {}


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (f"mount={DIGEST}&from=alice/y&from=shared/app", NameInvalid),
        ("from=a&fr%6Fm=b", NameInvalid),  # the same key once decoded
        (f"mount={DIGEST}&mount={DIGEST}", DigestInvalid),  # even with equal values
        (f"digest={DIGEST}&digest=sha256:{'b' * 64}", DigestInvalid),
        ("n=1&n=2", PaginationNumberInvalid),
        ("last=a&last=", PaginationNumberInvalid),
    ],
)
def test_a_repeated_single_valued_parameter_is_refused(query: str, error: type[RegistryError]) -> None:
    with pytest.raises(error) as raised:
        parse_query(query.encode())
    assert type(raised.value) is error
    assert "more than once" in raised.value.message


def test_one_parse_per_request_is_kept_in_the_scope() -> None:
    scope = {"type": "http", "query_string": b"from=a"}
    first = query_of(scope)
    scope["query_string"] = b"from=b"  # readers after the first see what the first saw
    assert query_of(scope) is first is scope[QUERY_KEY]
    assert first["from"] == "a"


def test_single_valued_parameters_are_query_parameters_of_the_descriptor() -> None:
    declared = {
        param.name
        for route in ROUTES
        for method in route.methods
        for request in method.requests
        for param in request.query
    }
    assert set(SINGLE_VALUED) <= declared
    # the two a client may repeat: referrers filters, and the tags of a manifest PUT by digest
    assert declared - set(SINGLE_VALUED) == {"artifactType", "tag"}
