"""Invariants of the descriptor: unique names, codes registered once and used, grammars that hold."""

from __future__ import annotations

import re

import pytest
from registry_spec import errors as E
from registry_spec import params as P
from registry_spec.model import ErrorCode
from registry_spec.routes import ROUTES, all_params
from registry_spec.views import used_error_codes

REQUIRED_CODES = {
    "UNKNOWN",
    "UNSUPPORTED",
    "UNAUTHORIZED",
    "DENIED",
    "UNAVAILABLE",
    "TOOMANYREQUESTS",
    "DIGEST_INVALID",
    "SIZE_INVALID",
    "RANGE_INVALID",
    "NAME_INVALID",
    "TAG_INVALID",
    "NAME_UNKNOWN",
    "MANIFEST_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNVERIFIED",
    "MANIFEST_BLOB_UNKNOWN",
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "PAGINATION_NUMBER_INVALID",
}
OCI_ENDPOINTS = {
    f"end-{n}"
    for n in ("1", "2", "3", "4a", "4b", "5", "6", "7", "8a", "8b", "9", "10", "11", "12a", "12b", "13", "14")
}


def test_route_names_paths_and_operation_ids_are_unique() -> None:
    assert len({r.name for r in ROUTES}) == len(ROUTES)
    assert len({r.path for r in ROUTES}) == len(ROUTES)
    ops = [m.operation_id for r in ROUTES for m in r.methods]
    assert len(set(ops)) == len(ops)
    for route in ROUTES:
        methods = [m.method for m in route.methods]
        assert len(set(methods)) == len(methods), route.name


def test_request_variant_names_are_unique_per_method() -> None:
    for route in ROUTES:
        for method in route.methods:
            names = [r.name for r in method.requests]
            assert len(set(names)) == len(names), (route.name, method.method)


def test_every_error_code_is_registered_and_duplicates_refused() -> None:
    assert set(E.REGISTRY) >= REQUIRED_CODES  # distribution's and the OCI spec's; adding one is one register()
    with pytest.raises(ValueError, match="registered twice"):
        E.register(ErrorCode("NAME_INVALID", "again", "duplicate", 400))


def test_every_error_code_is_used_by_some_response() -> None:
    assert used_error_codes() == set(E.REGISTRY)


def test_every_oci_endpoint_id_is_carried() -> None:
    ids = {i for route in ROUTES for i in route.spec_ids()}
    assert ids == OCI_ENDPOINTS


def test_oci_error_ids_are_distinct() -> None:
    refs = [c.spec_ref for c in E.REGISTRY.values() if c.spec_ref]
    assert len(refs) == len(set(refs)) == 14


def test_paths_hold_no_patterns_and_name_their_params() -> None:
    for route in ROUTES:
        assert "(" not in route.path and "[" not in route.path, route.path
        placeholders = set(re.findall(r"{(\w+)}", route.path))
        assert placeholders == {p.name for p in route.path_params}, route.name


def test_every_pattern_compiles() -> None:
    for param in all_params():
        if param.pattern is not None:
            re.compile(param.pattern)


NAME = re.compile(P.NAME_PATTERN)
TAG = re.compile(P.TAG_PATTERN)
DIGEST = re.compile(P.DIGEST_PATTERN)
REFERENCE = re.compile(P.REFERENCE_PATTERN)


def valid_name(value: str) -> bool:
    return bool(NAME.search(value)) and len(value) <= P.NAME_MAX_LENGTH


@pytest.mark.parametrize(
    "name", ["library/ubuntu", "a", "a/b/c", "my-org/my_app", "a__b", "a---b", "a.b/c.d", "x" * 255]
)
def test_name_pattern_accepts_spec_examples(name: str) -> None:
    assert valid_name(name)


@pytest.mark.parametrize(
    "name", ["Library/ubuntu", "a..b", "a//b", "/a", "a/", "", "-a", "a-", "a___b", "a b", "x" * 256]
)
def test_name_pattern_rejects_bad_names(name: str) -> None:
    assert not valid_name(name)


@pytest.mark.parametrize("tag", ["latest", "v1.0.0", "_x", "A", "a" * 128])
def test_tag_pattern_accepts(tag: str) -> None:
    assert TAG.search(tag) and REFERENCE.search(tag)


@pytest.mark.parametrize("tag", [".x", "-x", "a" * 129, "a/b", "", "a:b"])
def test_tag_pattern_rejects(tag: str) -> None:
    assert not TAG.search(tag)


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "a" * 64,
        "sha512:" + "0" * 128,
        "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
    ],
)
def test_digest_pattern_accepts(digest: str) -> None:
    assert DIGEST.search(digest) and REFERENCE.search(digest)


@pytest.mark.parametrize(
    "digest", ["sha256", "sha256:", ":abc", "SHA256:abc", "sha256:ab/cd", "sha256:ab cd"]
)
def test_digest_pattern_rejects(digest: str) -> None:
    assert not DIGEST.search(digest)
