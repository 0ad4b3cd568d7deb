"""The one route table: compiled from ROUTES, read by authorization, the fast path and classification."""

from __future__ import annotations

from dataclasses import replace

import pytest
from registry_spec import errors as E
from registry_spec import params as P
from registry_spec.model import Param
from registry_spec.router import ROUTER, Router, valid_value
from registry_spec.routes import ROUTES, find_route

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("path", "route", "params"),
    [
        ("/v2/", "base", {}),
        ("/v2/_catalog", "catalog", {}),
        ("/v2/a/b/tags/list", "tags", {"name": "a/b"}),
        ("/v2/a/tags/list/manifests/x", "manifest", {"name": "a/tags/list", "reference": "x"}),
        (f"/v2/a/manifests/b/blobs/{DIGEST}", "blob", {"name": "a/manifests/b", "digest": DIGEST}),
        ("/v2/a/blobs/blobs/uploads/", "blob-upload", {"name": "a/blobs"}),
        ("/v2/a/blobs/uploads/u-1", "blob-upload-chunk", {"name": "a", "uuid": "u-1"}),
        (f"/v2/a/referrers/{DIGEST}", "referrers", {"name": "a", "digest": DIGEST}),
        ("/v2//manifests/x", "manifest", {"name": "", "reference": "x"}),
    ],
)
def test_paths_route_as_the_framework_routes_them(path: str, route: str, params: dict[str, str]) -> None:
    found = ROUTER.match(path)
    assert found is not None
    assert (found[0].route.name, found[1]) == (route, params)


@pytest.mark.parametrize("path", ["/v2", "/v2/a/manifests/", "/v2/a/unknown/x", "/other"])
def test_other_paths_match_no_route(path: str) -> None:
    assert ROUTER.match(path) is None


def test_every_method_of_the_descriptor_is_an_operation() -> None:
    assert sorted(ROUTER.operations) == sorted(m.operation_id for r in ROUTES for m in r.methods)
    assert ROUTER.operation("manifest", "PUT").operation_id == "put_manifest"


def test_single_valued_query_parameters_and_their_codes() -> None:
    assert (
        dict(ROUTER.single_valued).items()
        >= {
            "n": E.PAGINATION_NUMBER_INVALID,
            "last": E.PAGINATION_NUMBER_INVALID,
            "digest": E.DIGEST_INVALID,
            "mount": E.DIGEST_INVALID,
            "from": E.NAME_INVALID,
        }.items()
    )
    assert "artifactType" not in ROUTER.single_valued  # repeatable


def test_a_single_valued_query_parameter_needs_a_code() -> None:
    route = find_route("catalog")
    method = route.methods[0]
    request = replace(method.requests[0], query=(Param("x", "query", "no code"),))
    changed = replace(route, methods=(replace(method, requests=(request,)),))
    with pytest.raises(ValueError, match="no error code"):
        Router((changed,))


def _headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(name.replace("_", "-").encode(), value.encode()) for name, value in values.items()]


OCTETS = "application/octet-stream"


@pytest.mark.parametrize(
    ("operation", "headers", "accepted"),
    [
        ("patch_upload", _headers(content_type=OCTETS, content_range="0-9", content_length="10"), True),
        ("patch_upload", _headers(content_range="bytes=0-9"), True),  # no Content-Type: the framework's first
        ("patch_upload", _headers(content_range="0-x"), False),  # off the grammar
        ("patch_upload", _headers(content_length="-1"), False),
        ("patch_upload", _headers(content_length="10", Content_Length="10"), False),  # twice
        ("patch_upload", _headers(content_type=OCTETS + "; x=y"), False),  # a parameter: the framework's call
        ("patch_upload", _headers(content_type="text/plain"), False),
        ("put_manifest", _headers(content_type="application/vnd.oci.image.manifest.v1+json"), True),
        ("put_manifest", _headers(accept="*/*"), False),  # Content-Type is required there
        ("put_manifest", _headers(content_type="application/json"), False),
        ("get_manifest", _headers(range="anything", if_none_match="x"), True),  # no grammar to check
    ],
)
def test_headers_the_fast_path_accepts(operation: str, headers: list[tuple[bytes, bytes]], accepted: bool) -> None:
    assert ROUTER.operations[operation].accepts_headers(headers) is accepted


def test_an_opaque_query_parameter_passes_with_any_value_where_the_route_has_it() -> None:
    patch = ROUTER.operations["patch_upload"]
    assert patch.accepts({"name": "a", "uuid": "u"}, {"_state": "anything at all"})
    assert not patch.accepts({"name": "a", "uuid": "u"}, {"other": "x"})
    assert not ROUTER.operations["start_upload"].accepts({"name": "a"}, {"_state": "x"})  # not its route's


@pytest.mark.parametrize(
    ("param", "value", "valid"),
    [
        (P.NAME, "a/b-c", True),
        (P.NAME, "A", False),
        (P.NAME, "a" * 256, False),
        (P.REFERENCE, "v1", True),
        (P.REFERENCE, DIGEST, True),
        (P.REFERENCE, ".bad", False),
        (P.PAGE_N, "10", True),
        (P.PAGE_N, "-1", False),
        (P.PAGE_N, "x", False),
        (P.PAGE_N, "\u00b2", False),
        (P.UUID, "a" * 129, False),
        (P.UUID, "\u00e9", False),
    ],
)
def test_values_are_checked_by_the_descriptors_grammar(param: Param, value: str, valid: bool) -> None:
    assert valid_value(param)(value) is valid


def test_codes_of_bad_values_come_from_the_descriptor() -> None:
    get = ROUTER.operation("manifest", "GET")
    put = ROUTER.operation("manifest", "PUT")
    reference = {r.param.name: r for r in put.path}["reference"]
    assert reference.error(".bad") is E.TAG_INVALID
    assert reference.error("sha256:!") is E.DIGEST_INVALID
    assert {r.param.name: r for r in get.path}["reference"].error(".bad") is E.MANIFEST_UNKNOWN
    assert put.refusal(415).status == 400 and put.refusal(415).error_codes == (E.MANIFEST_INVALID,)
    patch = ROUTER.operation("blob-upload-chunk", "PATCH")
    assert patch.refusal(415).status == 415 and patch.refusal(415).error_codes == (E.BLOB_UPLOAD_INVALID,)
    assert ROUTER.operation("base", "GET").refusal(400) is P.REQUEST_INVALID
    complete = ROUTER.operation("blob-upload-chunk", "PUT")
    assert [r.param.name for r in complete.required_query] == ["digest"]
    assert ROUTER.operation("blob-upload", "POST").required_query == ()


def test_a_huge_integer_is_judged_without_int() -> None:
    """Python's int() refuses more than 4 300 digits: the check must answer, not raise (a 500), for such a value."""
    check = valid_value(P.PAGE_N)
    assert check("9" * 5000)
    assert check("0" * 5000 + "7")
    assert not check("-1") and not check("1e3") and not check("")
