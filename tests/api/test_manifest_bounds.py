"""Manifest PUT bounds: more descriptors or deeper nesting than the descriptor's caps is 400 MANIFEST_INVALID."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from registry_spec import params as P
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import OCI_LAYER, OCI_MANIFEST, error_codes

pytestmark = pytest.mark.anyio


def _layers(count: int) -> list[dict[str, Any]]:
    return [
        {"mediaType": OCI_LAYER, "digest": "sha256:" + hashlib.sha256(b"%d" % i).hexdigest(), "size": i + 1}
        for i in range(count)
    ]


def _manifest(layers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    config = {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": "sha256:" + "0" * 64,
        "size": 2,
    }
    return {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": layers, **extra}


async def put(client: httpx.AsyncClient, content: bytes) -> httpx.Response:
    return await client.put("/v2/bounds/manifests/x", content=content, headers={"Content-Type": OCI_MANIFEST})


SPELLINGS = {
    "compact": lambda doc: json.dumps(doc, separators=(",", ":")).encode(),
    "spaced": lambda doc: json.dumps(doc).replace('"digest":', '"digest" :').encode(),
    "escaped-names": lambda doc: json.dumps(doc).replace('"digest"', '"\\u0064igest"').encode(),
}


@pytest.mark.parametrize("spelling", list(SPELLINGS), ids=list(SPELLINGS))
async def test_more_descriptors_than_the_cap_is_400(client: httpx.AsyncClient, spelling: str) -> None:
    content = SPELLINGS[spelling](_manifest(_layers(P.MANIFEST_MAX_DESCRIPTORS)))  # + the config: one over
    r = await put(client, content)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    assert r.json()["errors"][0]["detail"]["limit"] == P.MANIFEST_MAX_DESCRIPTORS


async def test_descriptors_up_to_the_cap_pass_the_bounds(client: httpx.AsyncClient) -> None:
    content = json.dumps(_manifest(_layers(P.MANIFEST_MAX_DESCRIPTORS - 1))).encode()
    r = await put(client, content)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]  # validated in full: only its blobs are missing


async def test_nesting_deeper_than_the_cap_is_400(client: httpx.AsyncClient) -> None:
    deep: Any = "leaf"
    for _ in range(P.MANIFEST_MAX_DEPTH):
        deep = {"a": deep}
    r = await put(client, json.dumps(_manifest(_layers(1), annotations=deep)).encode())
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    assert r.json()["errors"][0]["detail"] == {"limit": P.MANIFEST_MAX_DEPTH}
