"""Issue 11, observation 1: concurrent requests must not read each other's routed operation.

granian 2.8 hands every request of a worker one shared ``scope["extensions"]`` dict; connexion's
router writes the routed operation id into it. Without a per-request copy, a manifest PUT that
overlaps an upload completion is validated as the completion (400 "digest is required", 415). The
server below does what granian does, so this fails on the code before ``OwnExtensions``.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send
from testkit.registry import OCI_MANIFEST, sha256

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState

pytestmark = pytest.mark.anyio


class SharedExtensionsServer:
    """Every request gets the same extensions dict, and yields to the loop before its body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.extensions: dict[str, object] = {"http.response.pathsend": {}}
        self.reads = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["extensions"] = self.extensions

            async def slow_receive() -> dict[str, object]:
                self.reads += 1
                await asyncio.sleep(
                    0.001 * (self.reads % 3)
                )  # other requests route meanwhile, as on a socket
                return await receive()  # type: ignore[no-any-return]

            await self.app(scope, slow_receive, send)
        else:
            await self.app(scope, receive, send)


def _manifest(config: bytes, blob: bytes) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(config), "size": 2},
            "layers": [{"mediaType": "application/octet-stream", "digest": sha256(blob), "size": len(blob)}],
        }
    ).encode()


async def _prepare(client: httpx.AsyncClient, i: int) -> tuple[str, bytes, str, bytes]:
    """A session holding blob i (to be completed) and a manifest whose blobs are already pushed."""
    name = f"p/r{i % 4}"
    blob, earlier, config = b"%06d" % i * 340, b"e%05d" % i * 300, b"{}"
    for data in (earlier, config):
        r = await client.post(f"/v2/{name}/blobs/uploads/", params={"digest": sha256(data)}, content=data)
        assert r.status_code == 201, r.text
    r = await client.post(f"/v2/{name}/blobs/uploads/")
    r = await client.patch(
        r.headers["location"], content=blob, headers={"Content-Type": "application/octet-stream"}
    )
    assert r.status_code == 202, r.text
    return name, blob, r.headers["location"], _manifest(config, earlier)


async def _complete(client: httpx.AsyncClient, location: str, blob: bytes) -> httpx.Response:
    return await client.put(
        location, params={"digest": sha256(blob)}, headers={"Content-Type": "application/octet-stream"}
    )


async def _put_manifest(client: httpx.AsyncClient, name: str, tag: str, manifest: bytes) -> httpx.Response:
    return await client.put(
        f"/v2/{name}/manifests/{tag}", content=manifest, headers={"Content-Type": OCI_MANIFEST}
    )


async def test_concurrent_requests_keep_their_own_operation(state: AppState) -> None:
    server = SharedExtensionsServer(create_app(state))
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        prepared = [await _prepare(client, i) for i in range(32)]
        calls = []
        for i, (name, blob, location, manifest) in enumerate(prepared):
            calls += [_put_manifest(client, name, f"t{i}", manifest), _complete(client, location, blob)]
        answers = await asyncio.gather(*calls)
        wrong = [
            (r.request.method, r.request.url.path, r.status_code, r.text)
            for r in answers
            if r.status_code != 201
        ]
        assert not wrong, wrong[:3]
        for i, (name, blob, _, manifest) in enumerate(prepared):
            r = await client.get(f"/v2/{name}/manifests/t{i}", headers={"Accept": OCI_MANIFEST})
            assert r.status_code == 200 and r.content == manifest
            assert (await client.get(f"/v2/{name}/blobs/{sha256(blob)}")).content == blob
