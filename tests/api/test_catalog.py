"""GET /v2/_catalog: every repository in distribution's walk order, nested names, paginated with a next ``Link``."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import Helper, error_codes

from registry_impl.api.context import AppState

pytestmark = pytest.mark.anyio

NAMES = ["a", "a-b", "a.b", "a/b", "a/b/c", "a_b", "b", "lib/ubuntu", "z/y/x/w"]


def walk_order(names: list[str]) -> list[str]:
    """distribution's catalog order: names compared component by component (``a/b`` before ``a-b``)."""
    return sorted(names, key=lambda name: name.split("/"))


async def populate(push: Helper, names: list[str]) -> None:
    for name in reversed(names):
        await push.image(name, "latest")


async def catalog(client: httpx.AsyncClient, url: str = "/v2/_catalog") -> tuple[list[str], str | None]:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"repositories"}
    return body["repositories"], r.headers.get("Link")


def next_link(last: str, n: int) -> str:
    return f'<{"/v2/_catalog"}?last={quote(last, safe="")}&n={n}>; rel="next"'


async def test_empty_registry_has_an_empty_list(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/_catalog")
    assert r.status_code == 200
    assert r.text.replace(" ", "") == '{"repositories":[]}'
    assert "Link" not in r.headers


async def test_names_are_sorted_and_nested_names_listed(client: httpx.AsyncClient, push: Helper) -> None:
    await populate(push, NAMES)
    names, link = await catalog(client)
    assert names == walk_order(NAMES)
    assert names.index("a/b/c") < names.index("a-b")
    assert link is None


async def test_pagination_with_link(client: httpx.AsyncClient, push: Helper) -> None:
    await populate(push, NAMES)
    expected = walk_order(NAMES)
    names, link = await catalog(client, "/v2/_catalog?n=2")
    assert names == expected[:2]
    assert link == next_link(expected[1], 2)
    seen: list[str] = []
    url: str | None = "/v2/_catalog?n=4"
    while url is not None:
        page, link = await catalog(client, url)
        assert len(page) <= 4
        seen += page
        url = link[1 : link.index(">")] if link else None
    assert seen == expected


async def test_last_is_exclusive_and_need_not_exist(client: httpx.AsyncClient, push: Helper) -> None:
    await populate(push, ["a", "b", "c/d", "e"])
    names, _ = await catalog(client, "/v2/_catalog?last=b")
    assert names == ["c/d", "e"]
    names, _ = await catalog(client, "/v2/_catalog?last=bb")
    assert names == ["c/d", "e"]
    names, link = await catalog(client, "/v2/_catalog?last=c/d&n=1")
    assert names == ["e"]
    assert link is None


async def test_n_zero_and_n_equal_to_the_rest(client: httpx.AsyncClient, push: Helper) -> None:
    await populate(push, ["a", "b"])
    names, link = await catalog(client, "/v2/_catalog?n=0")
    assert names == []
    assert link is None
    names, link = await catalog(client, "/v2/_catalog?n=2")
    assert names == ["a", "b"]
    assert link is None


async def test_maximum_page_size_is_enforced(
    client: httpx.AsyncClient, push: Helper, request: pytest.FixtureRequest
) -> None:
    await populate(push, ["a", "b", "c"])
    app_state: AppState = request.getfixturevalue("shared_app")[1]  # what the app reads per request
    app_state.max_catalog = 2
    names, link = await catalog(client, "/v2/_catalog?n=100")
    assert names == ["a", "b"]
    assert link == next_link("b", 2)
    names, link = await catalog(client)
    assert names == ["a", "b"]
    assert link == next_link("b", 2)


@pytest.mark.parametrize("n", ["-1", "x", "2.0"])
async def test_bad_n_is_400_pagination_number_invalid(client: httpx.AsyncClient, n: str) -> None:
    r = await client.get("/v2/_catalog", params={"n": n})
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["PAGINATION_NUMBER_INVALID"]


async def test_repository_with_only_blobs_is_listed(client: httpx.AsyncClient, push: Helper) -> None:
    """As in distribution, a repository exists once content is linked into it (``_layers``)."""
    await push.blob("blobs/only", b"a blob")
    await push.image("images", "v1")
    names, _ = await catalog(client)
    assert names == ["blobs/only", "images"]


async def test_repository_with_only_an_unfinished_upload_is_not_listed(client: httpx.AsyncClient) -> None:
    r = await client.post("/v2/pending/blobs/uploads/")
    assert r.status_code == 202
    names, _ = await catalog(client)
    assert names == []


async def test_parent_of_nested_repositories_is_not_a_repository(
    client: httpx.AsyncClient, push: Helper
) -> None:
    await populate(push, ["org/team/app", "org/tool"])
    names, _ = await catalog(client)
    assert names == ["org/team/app", "org/tool"]
    r = await client.get("/v2/org/tags/list")
    assert r.status_code == 404
    assert error_codes(r) == ["NAME_UNKNOWN"]
