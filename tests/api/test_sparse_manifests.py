"""Sparse manifests, an opt-in (off by default): an index whose children, or an image whose layers, were not
pushed. ``validation.manifests.indexes.platforms`` (distribution 3: all, none, list) and this project's
``validation.manifests.layers.required`` (all, none)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from registry_spec.protocol.descriptors import Platform
from testkit.images import index_document
from testkit.registry import OCI_INDEX, OCI_LAYER, OCI_MANIFEST, Helper, Pushed, error_codes

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.config import ConfigError
from registry_impl.config.sections import build_validation
from registry_impl.manifests import SparseRules
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio
AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")


def _never_pushed(seed: bytes, media_type: str = OCI_MANIFEST) -> Pushed:
    content = b'{"never":"pushed","seed":"%s"}' % seed.hex().encode()
    return Pushed("sha256:" + hashlib.sha256(content).hexdigest(), content, media_type)


@pytest.fixture
def rules() -> SparseRules:
    return SparseRules()


@pytest.fixture
async def client(rules: SparseRules) -> AsyncIterator[httpx.AsyncClient]:
    state = AppState(registry=Registry(InMemoryDriver(), Policy(sparse=rules)), secret=b"s")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(state, validate_responses=True)),
        base_url="http://r.test",
    ) as c:
        yield c


async def _sparse_index(client: httpx.AsyncClient, expect: int) -> httpx.Response:
    push = Helper(client)
    present = await push.image("app", None)  # amd64 (index_document's first platform)
    document = index_document([present, _never_pushed(b"arm64")])
    r = await client.put(
        "/v2/app/manifests/sparse-index", content=json.dumps(document), headers={"Content-Type": OCI_INDEX}
    )
    assert r.status_code == expect, r.text
    return r


async def _sparse_image(client: httpx.AsyncClient, *, config_missing: bool = False) -> httpx.Response:
    push = Helper(client)
    config = b'{"architecture":"amd64","os":"linux","missing":%s}' % str(config_missing).lower().encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    if not config_missing:
        await push.blob("app", config)
    present = await push.blob("app", b"present layer")
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config)},
        "layers": [
            {"mediaType": OCI_LAYER, "digest": present, "size": 13},
            {"mediaType": OCI_LAYER, "digest": "sha256:" + "ab" * 32, "size": 1024},
        ],
    }  # fmt: skip
    return await client.put(
        "/v2/app/manifests/sparse-image", content=json.dumps(document), headers={"Content-Type": OCI_MANIFEST}
    )


async def test_off_by_default_a_missing_child_or_layer_is_refused(client: httpx.AsyncClient) -> None:
    r = await _sparse_index(client, 400)
    assert error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]
    r = await _sparse_image(client)
    assert r.status_code == 400 and error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]


@pytest.mark.parametrize("rules", [SparseRules(platforms="none")])
async def test_platforms_none_accepts_an_index_with_children_missing(client: httpx.AsyncClient) -> None:
    await _sparse_index(client, 201)
    got = await client.get("/v2/app/manifests/sparse-index", headers={"Accept": OCI_INDEX})
    assert got.status_code == 200 and len(got.json()["manifests"]) == 2
    r = await _sparse_image(client)  # layers are still required
    assert r.status_code == 400 and error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]


@pytest.mark.parametrize(
    ("rules", "expect"),
    [(SparseRules(platforms="list", platform_list=(AMD64,)), 201),
     (SparseRules(platforms="list", platform_list=(ARM64,)), 400)],
    ids=["missing-platform-not-listed", "missing-platform-listed"],
)  # fmt: skip
async def test_platforms_list_requires_the_listed_platforms(client: httpx.AsyncClient, expect: int) -> None:
    await _sparse_index(client, expect)


@pytest.mark.parametrize("rules", [SparseRules(layers="none")])
async def test_layers_none_accepts_an_image_with_layers_missing(client: httpx.AsyncClient) -> None:
    r = await _sparse_image(client)
    assert r.status_code == 201, r.text
    got = await client.get("/v2/app/manifests/sparse-image", headers={"Accept": OCI_MANIFEST})
    assert got.status_code == 200 and len(got.json()["layers"]) == 2
    r = await _sparse_image(client, config_missing=True)  # the config is always required
    assert r.status_code == 400 and error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]


def test_configuration_keys() -> None:
    config = build_validation(
        {"manifests": {"indexes": {"platforms": "List", "platformlist": [{"os": "linux", "architecture": "arm64"}]},
                       "layers": {"required": "none"}}}
    )  # fmt: skip
    assert (config.index_platforms, config.platform_list, config.layers_required) == (
        "list", (("linux", "arm64"),), "none",
    )  # fmt: skip
    assert build_validation({}).index_platforms == "all" and build_validation({}).layers_required == "all"
    for bad in (
        {"indexes": {"platforms": "some"}},
        {"indexes": {"platforms": "list"}},
        {"indexes": {"platforms": "list", "platformlist": [{"os": "linux"}]}},
        {"layers": {"required": "most"}},
    ):
        with pytest.raises(ConfigError):
            build_validation({"manifests": bad})
