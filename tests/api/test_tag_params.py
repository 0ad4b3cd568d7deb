"""Manifest PUT by digest with ``?tag=`` parameters (OCI distribution-spec 1.2): atomic, sha256 and sha512,
confirmed in ``OCI-Tag`` headers; the client library's use of them, and its fallback."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import anyio
import httpx
import pytest
from registry_client import Manifest, RegistryClient
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.asgi_sync import SyncASGITransport
from testkit.registry import OCI_MANIFEST, Helper, error_codes

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.storage import paths
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio


async def _image(push: Helper, name: str, seed: bytes = b"") -> bytes:
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed.hex()}).encode()
    layer = b"layer-" + seed
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": await push.blob(name, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": await push.blob(name, layer),
                "size": len(layer),
            }
        ],
    }
    return json.dumps(document).encode()


def _digest(content: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"


async def _put(
    client: httpx.AsyncClient, name: str, reference: str, content: bytes, tags: list[str]
) -> httpx.Response:
    return await client.put(
        f"/v2/{name}/manifests/{reference}",
        params=[("tag", t) for t in tags],
        content=content,
        headers={"Content-Type": OCI_MANIFEST},
    )


async def _resolves(client: httpx.AsyncClient, name: str, tag: str) -> str | None:
    r = await client.get(f"/v2/{name}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
    return r.headers["Docker-Content-Digest"] if r.status_code == 200 else None


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
async def test_put_by_digest_applies_every_tag(client: httpx.AsyncClient, algorithm: str) -> None:
    push = Helper(client)
    content = await _image(push, "app", algorithm.encode())
    digest = _digest(content, algorithm)
    r = await _put(client, "app", digest, content, ["v1", "latest", "v1"])
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    assert sorted(r.headers.get_list("OCI-Tag")) == ["latest", "v1"]
    for tag in ("v1", "latest"):
        got = await client.get(f"/v2/app/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
        assert (got.status_code, got.content, got.headers["Docker-Content-Digest"]) == (200, content, digest)
    listed = await client.get("/v2/app/tags/list")
    assert listed.json()["tags"] == ["latest", "v1"]


async def test_put_without_tag_parameters_sends_no_oci_tag(client: httpx.AsyncClient) -> None:
    push = Helper(client)
    content = await _image(push, "app")
    r = await _put(client, "app", _digest(content), content, [])
    assert r.status_code == 201, r.text
    assert "OCI-Tag" not in r.headers


async def test_an_invalid_tag_refuses_the_whole_request(client: httpx.AsyncClient) -> None:
    push = Helper(client)
    content = await _image(push, "app")
    r = await _put(client, "app", _digest(content), content, ["good", "-bad"])
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["TAG_INVALID"]
    assert await _resolves(client, "app", "good") is None


async def test_tag_parameters_with_a_put_by_tag_are_refused(client: httpx.AsyncClient) -> None:
    push = Helper(client)
    content = await _image(push, "app")
    r = await _put(client, "app", "v1", content, ["v2"])
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["TAG_INVALID"]
    assert await _resolves(client, "app", "v1") is None


async def test_concurrent_pushes_move_the_tags_together(client: httpx.AsyncClient) -> None:
    """Eight pushes of different manifests, each naming the same three tags, in parallel: at the end the
    three tags point at one and the same manifest (a request's tags are claimed and moved together)."""
    push = Helper(client)
    contents = [await _image(push, "race", b"%d" % i) for i in range(8)]
    statuses: list[int] = []

    async def one(content: bytes) -> None:
        r = await _put(client, "race", _digest(content), content, ["c", "a", "b"])
        statuses.append(r.status_code)

    async with anyio.create_task_group() as tg:
        for content in contents:
            tg.start_soon(one, content)
    assert statuses == [201] * 8
    targets = {await _resolves(client, "race", t) for t in ("a", "b", "c")}
    assert len(targets) == 1 and targets <= {_digest(c) for c in contents}


class FailingTagWrites(InMemoryDriver):
    """Storage that fails the write of one tag's current link (a backend error mid-request)."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    def put_content(self, path: str, content: bytes, *, durable: bool = True) -> None:
        if path == self.failing:
            raise OSError("disk full")
        super().put_content(path, content, durable=durable)


async def test_a_failed_tag_write_moves_no_tag() -> None:
    driver = FailingTagWrites(paths.tag_current_link_path("app", "z"))
    app = create_app(AppState(registry=Registry(driver, Policy()), secret=b"s"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r.test") as client:
        push = Helper(client)
        old = await _image(push, "app", b"old")
        assert (await _put(client, "app", _digest(old), old, ["a"])).status_code == 201
        new = await _image(push, "app", b"new")
        r = await _put(client, "app", _digest(new), new, ["a", "b", "z"])
        assert r.status_code == 500, r.text
        assert error_codes(r) == ["UNKNOWN"]
        assert await _resolves(client, "app", "a") == _digest(old)  # moved back
        assert await _resolves(client, "app", "b") is None  # new: removed again


def _client(state: AppState, strip_oci_tag: bool) -> tuple[RegistryClient, list[str]]:
    seen: list[str] = []
    bridge = SyncASGITransport(create_app(state))

    class Transport(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
            response = bridge.handle_request(request)
            if strip_oci_tag:  # a registry that ignores tag parameters
                headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "oci-tag"]
                response = httpx.Response(response.status_code, headers=headers, content=response.read())
            return response

    return RegistryClient("http://r.test", transport=Transport()), seen


@pytest.mark.parametrize("supported", [True, False], ids=["tag-params", "fallback"])
def test_client_pushes_by_digest_with_tags(supported: bool) -> None:
    state = AppState(registry=Registry(InMemoryDriver(), Policy()), secret=b"s")
    registry, seen = _client(state, strip_oci_tag=not supported)
    with registry:
        config = b'{"architecture":"amd64","os":"linux"}'
        config_digest = registry.blobs.upload("lib/app", config)
        document: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [],
        }
        content = json.dumps(document).encode()
        manifest = Manifest(content, OCI_MANIFEST, _digest(content))
        assert (
            registry.manifests.put("lib/app", manifest.digest, manifest, tags=("v1", "v2")) == manifest.digest
        )
        for tag in ("v1", "v2"):
            assert registry.manifests.get("lib/app", tag).content == content
    puts = [line for line in seen if line.startswith("PUT") and "/manifests/" in line]
    assert puts[0] == f"PUT /v2/lib/app/manifests/{manifest.digest}?tag=v1&tag=v2"
    assert puts[1:] == (
        [] if supported else ["PUT /v2/lib/app/manifests/v1?", "PUT /v2/lib/app/manifests/v2?"]
    )
