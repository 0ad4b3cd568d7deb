"""Request → access records, as distribution's authorized() derives them."""

from __future__ import annotations

import pytest

from registry_impl.api.query import parse_query
from registry_impl.auth.base import Access, Resource
from registry_impl.auth.scopes import required_access, route_of

DIGEST = "sha256:" + "a" * 64


def records(method: str, path: str, query: str = "") -> list[tuple[str, str, str]]:
    return [(a.type, a.name, a.action) for a in required_access(method, path, parse_query(query))]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v2/org/app/manifests/v1", ["pull"]),
        ("HEAD", "/v2/org/app/manifests/v1", ["pull"]),
        ("PUT", "/v2/org/app/manifests/v1", ["pull", "push"]),
        ("DELETE", "/v2/org/app/manifests/" + DIGEST, ["delete"]),
        ("GET", f"/v2/org/app/blobs/{DIGEST}", ["pull"]),
        ("HEAD", f"/v2/org/app/blobs/{DIGEST}", ["pull"]),
        ("DELETE", f"/v2/org/app/blobs/{DIGEST}", ["delete"]),
        ("POST", "/v2/org/app/blobs/uploads/", ["pull", "push"]),
        ("GET", "/v2/org/app/blobs/uploads/some-uuid", ["pull"]),
        ("PATCH", "/v2/org/app/blobs/uploads/some-uuid", ["pull", "push"]),
        ("PUT", "/v2/org/app/blobs/uploads/some-uuid", ["pull", "push"]),
        ("DELETE", "/v2/org/app/blobs/uploads/some-uuid", ["delete"]),
        ("GET", "/v2/org/app/tags/list", ["pull"]),
        ("GET", f"/v2/org/app/referrers/{DIGEST}", ["pull"]),
    ],
)
def test_repository_routes(method: str, path: str, expected: list[str]) -> None:
    assert records(method, path) == [("repository", "org/app", action) for action in expected]


def test_catalog_needs_registry_catalog_star() -> None:
    assert records("GET", "/v2/_catalog", "n=10") == [("registry", "catalog", "*")]


@pytest.mark.parametrize("path", ["/v2/", "/v2/not/a/route", "/v2"])
def test_base_and_unknown_paths_need_authentication_only(path: str) -> None:
    assert records("GET", path) == []


def test_a_mount_also_needs_pull_on_its_source() -> None:
    got = records("POST", "/v2/dst/blobs/uploads/", f"mount={DIGEST}&from=src/app")
    assert got == [
        ("repository", "dst", "pull"),
        ("repository", "dst", "push"),
        ("repository", "src/app", "pull"),
    ]


def test_an_empty_from_adds_nothing() -> None:
    assert records("POST", "/v2/dst/blobs/uploads/", f"mount={DIGEST}&from=") == [
        ("repository", "dst", "pull"),
        ("repository", "dst", "push"),
    ]


def test_names_are_as_greedy_as_the_router() -> None:
    assert route_of("/v2/a/blobs/blobs/uploads/") == ("blob-upload", "a/blobs")
    assert route_of(f"/v2/a/manifests/b/blobs/{DIGEST}") == ("blob", "a/manifests/b")
    assert route_of("/v2/a/tags/list/manifests/x") == ("manifest", "a/tags/list")
    assert route_of("/v2/_catalog") == ("catalog", None)
    assert route_of("/v2/") == ("base", None)


def test_an_empty_name_still_needs_repository_access() -> None:
    assert records("GET", "/v2//manifests/x") == [("repository", "", "pull")]


def test_methods_distribution_does_not_list_need_nothing_on_the_repository() -> None:
    assert records("OPTIONS", "/v2/org/app/manifests/v1") == []


def test_records_carry_the_go_field_names_in_details() -> None:
    assert Access(Resource("repository", "x"), "pull").detail() == {
        "Type": "repository",
        "Class": "",
        "Name": "x",
        "Action": "pull",
    }
