"""The pull-through cache in process, its upstream an ``httpx.MockTransport``: what real upstreams rarely do on
demand — bytes that do not match their digest, 503 and 429 — and the envelopes our clients get for them."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from registry_client import RegistryClient, RetryPolicy

from registry_impl.api.context import AppState
from registry_impl.config.model import UpstreamConfig
from registry_impl.proxy import PullThroughCache, Upstream
from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.registry import Policy, Registry

GOOD = b"the layer the upstream serves" * 100
GOOD_DIGEST = "sha256:" + hashlib.sha256(GOOD).hexdigest()
LARGE = bytes(range(256)) * (12 * 1024 + 1)  # three 1 MiB chunks and a bit: the proxy reads 1 MiB at a time
LARGE_DIGEST = "sha256:" + hashlib.sha256(LARGE).hexdigest()
LIED_DIGEST = "sha256:" + hashlib.sha256(b"what the upstream should have sent").hexdigest()
UPSTREAM = "http://upstream.test"

pytestmark = pytest.mark.anyio


def upstream_app(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/v2/":
        return httpx.Response(200, json={})
    if path.startswith("/v2/down/"):
        return httpx.Response(503, json={"errors": [{"code": "UNAVAILABLE", "message": "maintenance"}]})
    if path.startswith("/v2/busy/"):
        return httpx.Response(429, headers={"Retry-After": "0"})
    if path == "/v2/lib/app/tags/list":
        return httpx.Response(200, json={"name": "lib/app", "tags": ["v2", "v1", "latest"]})
    if path == f"/v2/lib/app/blobs/{LARGE_DIGEST}":
        return httpx.Response(200, content=LARGE)
    if path == f"/v2/lib/app/blobs/{GOOD_DIGEST}":
        return httpx.Response(200, content=GOOD, headers={"Docker-Content-Digest": GOOD_DIGEST})
    if path == f"/v2/lib/app/blobs/{LIED_DIGEST}":
        return httpx.Response(200, content=b"x" * len(GOOD))
    return httpx.Response(404, json={"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]})


@pytest.fixture
def driver(tmp_path: Path) -> StorageDriver:
    """The filesystem only (claims are flocks there, as in production); the in-memory driver adds nothing here."""
    return FilesystemDriver(rootdirectory=str(tmp_path / "data"), fsync=False)


@pytest.fixture
def fast_path() -> bool:
    return True  # blob and manifest GETs are fast operations: the path production takes


@pytest.fixture
def state(driver: StorageDriver, policy: Policy) -> AppState:
    upstream = Upstream(UpstreamConfig("hub", UPSTREAM, ttl=timedelta(hours=1)))
    upstream._client = RegistryClient(
        UPSTREAM, transport=httpx.MockTransport(upstream_app), retry=RetryPolicy(attempts=1)
    )
    registry = Registry(driver, policy)
    return AppState(registry=registry, secret=b"s", proxy=PullThroughCache([upstream]))


@pytest.mark.parametrize(
    ("first", "last"),
    [(10, (1 << 20) + 9), ((2 << 20) - 3, (2 << 20) + 3), (len(LARGE) - 5, len(LARGE) - 1)],
)
async def test_a_range_on_a_miss_is_cut_from_the_fetch(
    client: httpx.AsyncClient, first: int, last: int
) -> None:
    r = await client.get(f"/v2/hub/lib/app/blobs/{LARGE_DIGEST}", headers={"Range": f"bytes={first}-{last}"})
    assert r.status_code == 206 and r.content == LARGE[first : last + 1]
    r = await client.get(f"/v2/hub/lib/app/blobs/{LARGE_DIGEST}")  # and the whole blob was stored meanwhile
    assert r.status_code == 200 and r.content == LARGE


async def test_a_blob_is_fetched_once_verified_and_then_served_from_storage(
    client: httpx.AsyncClient, state: AppState
) -> None:
    for _ in range(2):
        r = await client.get(f"/v2/hub/lib/app/blobs/{GOOD_DIGEST}")
        assert r.status_code == 200 and r.content == GOOD
    assert state.registry.repository("hub/lib/app").blobs.exists(GOOD_DIGEST)
    r = await client.get(f"/v2/hub/lib/app/blobs/{GOOD_DIGEST}", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == GOOD[10:20]


async def test_bytes_that_do_not_match_their_digest_are_never_completed_nor_kept(
    client: httpx.AsyncClient, state: AppState
) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the response is aborted mid-body, however the server says so
        r = await client.get(f"/v2/hub/lib/app/blobs/{LIED_DIGEST}")
        assert r.content != b"x" * len(GOOD)  # never a complete body
    driver = state.registry.driver
    assert state.registry.blobs.stat_storage(LIED_DIGEST) is None
    assert not state.registry.repository("hub/lib/app").blobs.exists(LIED_DIGEST)
    with contextlib.suppress(PathNotFoundError):  # no session left (or no _uploads at all)
        assert driver.list(paths.uploads_root("hub/lib/app")) == []


@pytest.mark.parametrize(("repository", "reason"), [("down/app", "HTTP 503"), ("busy/app", "HTTP 429")])
async def test_an_upstream_that_cannot_answer_is_named_in_a_503(
    client: httpx.AsyncClient, repository: str, reason: str
) -> None:
    for path in (f"/v2/hub/{repository}/blobs/{GOOD_DIGEST}", f"/v2/hub/{repository}/manifests/v1"):
        r = await client.get(path)
        assert r.status_code == 503, r.text
        error = r.json()["errors"][0]
        assert error["code"] == "UNAVAILABLE"
        assert error["detail"]["upstream"] == UPSTREAM and reason in error["detail"]["reason"]


async def test_what_the_upstream_does_not_have_is_unknown(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/v2/hub/lib/other/blobs/{GOOD_DIGEST}")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    r = await client.get("/v2/hub/lib/other/manifests/v1")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


async def test_tags_are_the_upstreams(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/hub/lib/app/tags/list")
    assert r.status_code == 200 and r.json() == {"name": "hub/lib/app", "tags": ["latest", "v1", "v2"]}
    r = await client.get("/v2/hub/lib/app/tags/list", params={"n": 1})
    assert r.json()["tags"] == ["latest"] and "last=latest" in r.headers["Link"]
    r = await client.get("/v2/hub/lib/other/tags/list")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    r = await client.get("/v2/hub/down/app/tags/list")  # nothing stored here either
    assert r.status_code == 503 and r.json()["errors"][0]["code"] == "UNAVAILABLE"
