"""A digest serves only bytes that hash to it, whatever a blob's file held before (issue 11).

A file under a digest that holds other bytes (written by a torn commit of an older version, a foreign tool,
a disk fault) is replaced by verified bytes when the content is pushed again, and a manifest whose stored
bytes do not hash to its digest is answered 404, never served.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from testkit.registry import OCI_MANIFEST, Helper, sha256

from registry_impl.api.context import AppState
from registry_impl.storage import paths
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio


@pytest.fixture
def driver(tmp_path: Path) -> FilesystemDriver:  # overrides conftest: files to corrupt
    return FilesystemDriver(rootdirectory=str(tmp_path / "data"), fsync=False)


@pytest.fixture
def state(driver: FilesystemDriver) -> AppState:
    return AppState(registry=Registry(driver, Policy(delete_enabled=True, read_only=False)), secret=b"s")


def _corrupt(driver: FilesystemDriver, digest: str, content: bytes) -> None:
    driver.put_content(paths.blob_data_path(digest), content)


@pytest.mark.parametrize("style", ["single", "session"])
async def test_a_pushed_blob_replaces_other_bytes_under_its_digest(
    client: httpx.AsyncClient, driver: FilesystemDriver, style: str
) -> None:
    data = b"the real layer" * 100
    _corrupt(driver, sha256(data), b"WRONG" * 7)
    if style == "single":
        r = await client.post("/v2/a/blobs/uploads/", params={"digest": sha256(data)}, content=data)
    else:
        r = await client.post("/v2/a/blobs/uploads/")
        r = await client.put(r.headers["location"], params={"digest": sha256(data)}, content=data)
    assert r.status_code == 201
    got = await client.get(f"/v2/a/blobs/{sha256(data)}")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-length"] == str(len(data))


async def test_a_pushed_manifest_replaces_other_bytes_under_its_digest(
    client: httpx.AsyncClient, driver: FilesystemDriver, push: Helper
) -> None:
    pushed = await push.image("m", tag=None)
    fresh = json.loads(pushed.content)
    fresh["annotations"] = {"x": "y"}
    body = json.dumps(fresh).encode()
    _corrupt(driver, sha256(body), b'{"not": "it"}')
    r = await client.put("/v2/m/manifests/v1", content=body, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 201
    got = await client.get(f"/v2/m/manifests/{sha256(body)}", headers={"Accept": OCI_MANIFEST})
    assert got.status_code == 200 and got.content == body


async def test_a_manifest_whose_bytes_do_not_hash_to_its_digest_is_not_served(
    client: httpx.AsyncClient, driver: FilesystemDriver, push: Helper, state: AppState
) -> None:
    pushed = await push.image("m", tag="v1")
    _corrupt(driver, pushed.digest, pushed.content + b" ")
    for reference in (pushed.digest, "v1"):
        got = await client.get(f"/v2/m/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
        assert got.status_code == 404, got.content
        assert got.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
