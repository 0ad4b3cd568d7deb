"""Schema 1 signed manifests through the API: pushed only under ``compatibility.schema1.enabled`` with a valid
signature (else MANIFEST_UNVERIFIED / MANIFEST_INVALID), served back byte for byte with their media type and
the payload's digest."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from testkit.registry import Helper, error_codes

from registry_impl import schema1
from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio
SCHEMA1 = schema1.MEDIA_TYPE


@pytest.fixture(params=[True, False], ids=["enabled", "disabled"])
def enabled(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def client(enabled: bool) -> AsyncIterator[httpx.AsyncClient]:
    policy = Policy(schema1=schema1.Schema1Policy(enabled=enabled))
    state = AppState(registry=Registry(InMemoryDriver(), policy), secret=b"s")
    app = create_app(state, validate_responses=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r.test") as c:
        yield c


async def _document(client: httpx.AsyncClient, *, push_layer: bool = True) -> dict[str, Any]:
    layer = b"schema1 layer"
    digest = await Helper(client).blob("old/app", layer) if push_layer else "sha256:" + "c" * 64
    return {
        "schemaVersion": 1,
        "name": "old/app",
        "tag": "v1",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": digest}],
        "history": [{"v1Compatibility": json.dumps({"id": "a" * 64})}],
    }


async def _put(client: httpx.AsyncClient, reference: str, content: bytes) -> httpx.Response:
    return await client.put(
        f"/v2/old/app/manifests/{reference}", content=content, headers={"Content-Type": SCHEMA1}
    )


@pytest.mark.parametrize("enabled", [True], ids=["enabled"])
async def test_a_signed_push_is_served_back_byte_for_byte(client: httpx.AsyncClient) -> None:
    signed = schema1.sign(await _document(client), ec.generate_private_key(ec.SECP256R1()))
    digest = schema1.parse_signed(signed).digest
    r = await _put(client, "v1", signed)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    for reference in ("v1", digest):
        got = await client.get(f"/v2/old/app/manifests/{reference}", headers={"Accept": SCHEMA1})
        assert got.status_code == 200, got.text
        assert (got.content, got.headers["Content-Type"], got.headers["Docker-Content-Digest"]) == (
            signed,
            SCHEMA1,
            digest,
        )
        head = await client.head(f"/v2/old/app/manifests/{reference}")
        assert head.headers["Content-Length"] == str(len(signed))
    by_digest = await _put(client, digest, signed)  # PUT by the payload's digest
    assert by_digest.status_code == 201, by_digest.text


@pytest.mark.parametrize("enabled", [True], ids=["enabled"])
async def test_unsigned_or_badly_signed_pushes_are_unverified(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    signed = schema1.sign(document, ec.generate_private_key(ec.SECP256R1()))
    for content in (json.dumps(document, indent=3).encode(), signed.replace(b'"v1"', b'"v2"', 1)):
        r = await _put(client, "v1", content)
        assert r.status_code == 400, r.text
        assert error_codes(r) == ["MANIFEST_UNVERIFIED"]
    assert (await client.get("/v2/old/app/manifests/v1")).status_code == 404


@pytest.mark.parametrize("enabled", [True], ids=["enabled"])
async def test_missing_layers_are_refused(client: httpx.AsyncClient) -> None:
    signed = schema1.sign(await _document(client, push_layer=False), ec.generate_private_key(ec.SECP256R1()))
    r = await _put(client, "v1", signed)
    assert r.status_code == 400 and error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]


@pytest.mark.parametrize("enabled", [False], ids=["disabled"])
async def test_pushes_are_refused_unless_enabled(client: httpx.AsyncClient) -> None:
    signed = schema1.sign(await _document(client), ec.generate_private_key(ec.SECP256R1()))
    r = await _put(client, "v1", signed)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    assert "compatibility.schema1.enabled" in r.json()["errors"][0]["message"]
