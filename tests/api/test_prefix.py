"""``http.prefix``: the registry under a path; Locations carry the prefix, paths outside it are 404."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.api.prefix import PathPrefix

pytestmark = [pytest.mark.api, pytest.mark.anyio]

PREFIX = "/my/registry"


@pytest.fixture
async def prefixed(state: AppState, fast_path: bool) -> AsyncIterator[httpx.AsyncClient]:
    app = PathPrefix(create_app(state, validate_responses=True, fast_path=fast_path), PREFIX)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
        yield c


async def test_base_answers_under_the_prefix_only(prefixed: httpx.AsyncClient) -> None:
    assert (await prefixed.get(f"{PREFIX}/v2/")).status_code == 200
    assert (await prefixed.get("/v2/")).status_code == 404
    assert (await prefixed.get("/my/registryx/v2/")).status_code == 404


async def test_push_and_pull_with_prefixed_locations(prefixed: httpx.AsyncClient) -> None:
    blob = b"a layer under a prefix"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    started = await prefixed.post(f"{PREFIX}/v2/p/q/blobs/uploads/")
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location.startswith(f"http://registry.test{PREFIX}/v2/p/q/blobs/uploads/"), location
    sep = "&" if "?" in location else "?"
    done = await prefixed.put(
        f"{location}{sep}digest={digest}", content=blob, headers={"Content-Type": "application/octet-stream"}
    )
    assert done.status_code == 201, done.text
    assert done.headers["Location"] == f"http://registry.test{PREFIX}/v2/p/q/blobs/{digest}"
    fetched = await prefixed.get(f"{PREFIX}/v2/p/q/blobs/{digest}")
    assert fetched.status_code == 200 and fetched.content == blob


async def test_pagination_links_carry_the_prefix(prefixed: httpx.AsyncClient) -> None:
    blob = b"listed"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    for repository in ("a/one", "a/two"):
        r = await prefixed.post(
            f"{PREFIX}/v2/{repository}/blobs/uploads/",
            params={"digest": digest},
            content=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 201, r.text
    listing = await prefixed.get(f"{PREFIX}/v2/_catalog", params={"n": 1})
    assert listing.status_code == 200
    assert listing.headers["Link"].startswith(f"<{PREFIX}/v2/_catalog?"), listing.headers["Link"]
