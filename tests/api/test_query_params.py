"""Single-valued query parameters given twice: 400 in the error envelope on every route, fast reads included.

``mount``, ``from``, ``digest``, ``n`` and ``last`` take one value; a second one is refused, never
resolved to the first or the last (which once let authorization and a handler read different ones).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import Helper, sha256

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState

pytestmark = pytest.mark.anyio

DATA = b"a blob"
DIGEST = sha256(DATA)
OTHER = "sha256:" + "b" * 64
OCTET = {"Content-Type": "application/octet-stream"}


@pytest.fixture
async def fast_client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    """The production shape: tag lists and the catalog take the fast read path."""
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
        yield c


def assert_repeated(r: httpx.Response, code: str, parameter: str) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    [error] = r.json()["errors"]
    assert error["code"] == code
    assert error["message"] == f"query parameter {parameter!r} given more than once"
    assert error["detail"] == {"parameter": parameter}


@pytest.mark.parametrize(
    ("query", "code", "parameter"),
    [
        (f"mount={DIGEST}&mount={DIGEST}", "DIGEST_INVALID", "mount"),
        (f"mount={DIGEST}&from=source&from=other", "NAME_INVALID", "from"),
        (f"mount={DIGEST}&from=source&from=source", "NAME_INVALID", "from"),
        (f"mount={DIGEST}&from=&from=source", "NAME_INVALID", "from"),
        (f"digest={DIGEST}&digest={OTHER}", "DIGEST_INVALID", "digest"),
    ],
)
async def test_upload_start(
    client: httpx.AsyncClient, push: Helper, query: str, code: str, parameter: str
) -> None:
    await push.blob("source", DATA)
    r = await client.post(f"/v2/target/blobs/uploads/?{query}", content=DATA, headers=OCTET)
    assert_repeated(r, code, parameter)
    assert (await client.head(f"/v2/target/blobs/{DIGEST}")).status_code == 404


async def test_upload_completion(client: httpx.AsyncClient) -> None:
    location = (await client.post("/v2/target/blobs/uploads/")).headers["Location"]
    r = await client.put(f"{location}&digest={DIGEST}&digest={DIGEST}", content=DATA, headers=OCTET)
    assert_repeated(r, "DIGEST_INVALID", "digest")
    assert (await client.get(location)).status_code == 204  # the session is still open, nothing stored
    assert (await client.head(f"/v2/target/blobs/{DIGEST}")).status_code == 404


PAGES = [
    ("/v2/app/tags/list?n=1&n=2", "n"),
    ("/v2/app/tags/list?n=1&n=1", "n"),
    ("/v2/app/tags/list?last=a&last=b", "last"),
    ("/v2/app/tags/list?n=1&last=a&last=", "last"),
    ("/v2/_catalog?n=1&n=2", "n"),
    ("/v2/_catalog?last=a&last=b", "last"),
]


@pytest.mark.parametrize(("path", "parameter"), PAGES)
async def test_pages(client: httpx.AsyncClient, push: Helper, path: str, parameter: str) -> None:
    await push.image("app", "v1")
    assert_repeated(await client.get(path), "PAGINATION_NUMBER_INVALID", parameter)


@pytest.mark.parametrize(("path", "parameter"), PAGES)
async def test_pages_on_the_fast_path(fast_client: httpx.AsyncClient, path: str, parameter: str) -> None:
    await Helper(fast_client).image("app", "v1")
    assert (await fast_client.get("/v2/app/tags/list?n=1")).status_code == 200
    assert_repeated(await fast_client.get(path), "PAGINATION_NUMBER_INVALID", parameter)


async def test_other_parameters_may_repeat(client: httpx.AsyncClient, push: Helper) -> None:
    """Only the descriptor's single-valued parameters are refused; an unknown one is ignored as before."""
    await push.image("app", "v1")
    r = await client.get("/v2/app/tags/list?x=1&x=2")
    assert r.status_code == 200, r.text
