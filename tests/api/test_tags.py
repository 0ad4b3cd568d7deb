"""GET /v2/<name>/tags/list: sorted, paginated with ``n``/``last`` and a next ``Link``, errors."""

from __future__ import annotations

import random

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import Helper, error_codes

from registry_impl.api.context import AppState

pytestmark = pytest.mark.anyio

TAGS = ["1.0", "1.0.1", "10", "2", "Latest", "_private", "a-b", "a.b", "a_b", "latest", "v1", "v1.10", "v1.9"]


async def tag_all(push: Helper, name: str, tags: list[str]) -> None:
    """One image, tagged with every tag (in a shuffled order)."""
    image = await push.image(name, None)
    shuffled = list(tags)
    random.Random(7).shuffle(shuffled)
    for tag in shuffled:
        await push.manifest(name, tag, image.content)


async def tags_of(client: httpx.AsyncClient, url: str) -> tuple[list[str], str | None]:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"name", "tags"}
    assert isinstance(body["tags"], list)
    return body["tags"], r.headers.get("Link")


def next_link(path: str, last: str, n: int) -> str:
    return f'<{path}?last={last}&n={n}>; rel="next"'


async def test_tags_are_sorted(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "lib/app", TAGS)
    r = await client.get("/v2/lib/app/tags/list")
    assert r.status_code == 200
    assert r.json() == {"name": "lib/app", "tags": sorted(TAGS)}
    assert "Link" not in r.headers


async def test_n_is_honoured_exactly_with_a_next_link(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "app", TAGS)
    expected = sorted(TAGS)
    tags, link = await tags_of(client, "/v2/app/tags/list?n=3")
    assert tags == expected[:3]
    assert link == next_link("/v2/app/tags/list", expected[2], 3)


async def test_following_links_walks_every_tag_once(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "app", TAGS)
    seen: list[str] = []
    url: str | None = "/v2/app/tags/list?n=4"
    pages = 0
    while url is not None:
        tags, link = await tags_of(client, url)
        assert len(tags) <= 4
        seen += tags
        pages += 1
        url = link[1 : link.index(">")] if link else None
    assert seen == sorted(TAGS)
    assert pages == 4  # 13 tags: 4 + 4 + 4 + 1


async def test_last_is_exclusive(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "app", TAGS)
    expected = sorted(TAGS)
    tags, link = await tags_of(client, f"/v2/app/tags/list?last={expected[4]}")
    assert tags == expected[5:]
    assert link is None
    tags, link = await tags_of(client, f"/v2/app/tags/list?n=2&last={expected[4]}")
    assert tags == expected[5:7]
    assert link == next_link("/v2/app/tags/list", expected[6], 2)


async def test_last_need_not_be_a_tag(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "app", ["a", "c", "e"])
    tags, _ = await tags_of(client, "/v2/app/tags/list?last=b")
    assert tags == ["c", "e"]
    tags, link = await tags_of(client, "/v2/app/tags/list?last=z")
    assert tags == []
    assert link is None


async def test_no_link_when_the_page_ends_the_list(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "app", ["a", "b", "c"])
    for n in (3, 4, 1000):
        tags, link = await tags_of(client, f"/v2/app/tags/list?n={n}")
        assert tags == ["a", "b", "c"]
        assert link is None, n
    tags, link = await tags_of(client, "/v2/app/tags/list?n=2&last=a")
    assert tags == ["b", "c"]
    assert link is None


async def test_n_zero_is_an_empty_list(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "app", ["a", "b"])
    tags, link = await tags_of(client, "/v2/app/tags/list?n=0")
    assert tags == []
    assert link is None


async def test_without_n_every_tag_is_listed_past_the_old_page_of_1000(
    client: httpx.AsyncClient, push: Helper
) -> None:
    """No ``tags.maxtags`` (the default): one answer names every tag, as distribution's does; ``n`` still pages."""
    tags = [f"t{i:04d}" for i in range(1001)]
    await tag_all(push, "many", tags)
    listed, link = await tags_of(client, "/v2/many/tags/list")
    assert listed == tags
    assert link is None
    listed, link = await tags_of(client, "/v2/many/tags/list?n=5000")
    assert listed == tags
    assert link is None
    listed, link = await tags_of(client, "/v2/many/tags/list?n=1000")
    assert listed == tags[:1000]
    assert link == next_link("/v2/many/tags/list", tags[999], 1000)


async def test_n_above_the_maximum_is_clamped_with_a_link(
    client: httpx.AsyncClient, push: Helper, request: pytest.FixtureRequest
) -> None:
    await tag_all(push, "app", ["a", "b", "c", "d", "e"])
    app_state: AppState = request.getfixturevalue("shared_app")[1]  # what the app reads per request
    app_state.max_tags = 2
    tags, link = await tags_of(client, "/v2/app/tags/list?n=10")
    assert tags == ["a", "b"]
    assert link == next_link("/v2/app/tags/list", "b", 2)
    tags, link = await tags_of(client, "/v2/app/tags/list")
    assert tags == ["a", "b"]
    assert link == next_link("/v2/app/tags/list", "b", 2)


async def test_repository_with_blobs_but_no_tags_has_an_empty_list(
    client: httpx.AsyncClient, push: Helper
) -> None:
    await push.blob("blobs/only", b"just a blob")
    r = await client.get("/v2/blobs/only/tags/list")
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "blobs/only", "tags": []}
    assert r.text.replace(" ", "") == '{"name":"blobs/only","tags":[]}'


async def test_repository_with_untagged_manifest_has_an_empty_list(
    client: httpx.AsyncClient, push: Helper
) -> None:
    await push.image("untagged", None)
    tags, _ = await tags_of(client, "/v2/untagged/tags/list")
    assert tags == []


async def test_unknown_repository_is_404_name_unknown(client: httpx.AsyncClient, push: Helper) -> None:
    await push.image("known", "v1")
    for name in ("unknown", "known/child", "kno"):
        r = await client.get(f"/v2/{name}/tags/list")
        assert r.status_code == 404, name
        assert error_codes(r) == ["NAME_UNKNOWN"]


@pytest.mark.parametrize("n", ["-1", "x", "1.5", "1e3", " 1", "0x10"])
async def test_bad_n_is_400_pagination_number_invalid(
    client: httpx.AsyncClient, push: Helper, n: str
) -> None:
    await push.image("app", "v1")
    r = await client.get("/v2/app/tags/list", params={"n": n})
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["PAGINATION_NUMBER_INVALID"]


async def test_bad_n_is_checked_before_the_repository(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/unknown/tags/list?n=x")
    assert r.status_code == 400
    assert error_codes(r) == ["PAGINATION_NUMBER_INVALID"]


async def test_invalid_name_is_400_name_invalid(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/Bad_Name/tags/list")
    assert r.status_code == 400
    assert error_codes(r) == ["NAME_INVALID"]


async def test_retag_and_untag_are_reflected(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "app", ["a", "b", "c"])
    r = await client.delete("/v2/app/manifests/b")
    assert r.status_code == 202
    tags, _ = await tags_of(client, "/v2/app/tags/list")
    assert tags == ["a", "c"]
    await push.image("app", "b", seed=b"new")
    tags, _ = await tags_of(client, "/v2/app/tags/list")
    assert tags == ["a", "b", "c"]


async def test_nested_name_in_body_and_link(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "a/b/c", ["x", "y"])
    r = await client.get("/v2/a/b/c/tags/list?n=1")
    assert r.json() == {"name": "a/b/c", "tags": ["x"]}
    assert r.headers["Link"] == next_link("/v2/a/b/c/tags/list", "x", 1)


async def test_tags_of_another_repository_are_not_listed(client: httpx.AsyncClient, push: Helper) -> None:
    await tag_all(push, "one", ["a"])
    await tag_all(push, "one/two", ["b"])
    await tag_all(push, "onetwo", ["c"])
    for name, expected in (("one", ["a"]), ("one/two", ["b"]), ("onetwo", ["c"])):
        tags, _ = await tags_of(client, f"/v2/{name}/tags/list")
        assert tags == expected
