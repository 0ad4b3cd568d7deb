"""dist against a hostile source registry (an in-process httpx.MockTransport): a blob body longer than its
descriptor stops at the descriptor's size, whatever the destination; indexes nested past MAX_DEPTH stop a copy;
dist digest prints the hash of the manifest, not a Docker-Content-Digest header."""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from registry_client import ClientError, DigestMismatch, Platform, RegistryClient, parse_reference
from registry_client.transport import RetryPolicy
from registry_toolkit.dist.commands import cmd_digest
from registry_toolkit.dist.context import Context
from registry_toolkit.dist.copy import MAX_DEPTH, Selection, copy_image
from registry_toolkit.dist.layout import LayoutStore
from registry_toolkit.dist.stores import RegistryStore, StoreError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}'
LAYER = bytes(range(256)) * 1000


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest(layer_size: int) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(CONFIG),
                "size": len(CONFIG),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha256(LAYER),
                    "size": layer_size,
                }
            ],
        }
    ).encode()


class Endless(httpx.SyncByteStream):
    """The layer, then 16 MiB of filler (endless for the purpose); counts the bytes handed out."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        self.sent += len(LAYER)
        yield LAYER
        while self.sent < 16 << 20:
            self.sent += 1 << 16
            yield b"A" * (1 << 16)


class Source:
    """A registry whose layer never ends."""

    def __init__(self) -> None:
        self.body = Endless()

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if "/manifests/" in path:
            content = manifest(len(LAYER))
            return httpx.Response(200, content=content, headers={"Content-Type": OCI_MANIFEST})
        if path.endswith(sha256(CONFIG)):
            return httpx.Response(200, content=CONFIG)
        return httpx.Response(200, stream=self.body)


class Destination:
    """A registry that accepts any upload and records the size of each blob it was sent."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(404)
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": "/v2/got/app/blobs/uploads/u1"})
        if request.method in ("PUT", "PATCH") and "/blobs/uploads/" in request.url.path:
            self.received.append(len(request.read()))
            return httpx.Response(201 if request.method == "PUT" else 202)
        return httpx.Response(201)


def registry(host: str, handler: Callable[[httpx.Request], httpx.Response]) -> RegistryStore:
    client = RegistryClient(
        f"http://{host}", transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1)
    )
    return RegistryStore(client, parse_reference(f"{host}/evil/app:latest"))


def test_an_endless_blob_stops_at_its_size_into_a_layout(tmp_path: Path) -> None:
    source = Source()
    with pytest.raises(ClientError, match=f"more than its {len(LAYER)} bytes"):
        copy_image(registry("src.test", source.handle), LayoutStore(tmp_path / "out", "v1"), Selection())
    assert source.body.sent <= len(LAYER) + (1 << 16)
    assert not list((tmp_path / "out").rglob(".tmp-*"))


def test_an_endless_blob_stops_at_its_size_into_a_registry() -> None:
    source, destination = Source(), Destination()
    with pytest.raises(ClientError, match=f"more than its {len(LAYER)} bytes"):
        copy_image(registry("src.test", source.handle), registry("dst.test", destination.handle), Selection())
    assert source.body.sent <= len(LAYER) + (1 << 16)
    assert set(destination.received) <= {len(CONFIG)}  # the config, never the layer


class Nested:
    """A registry whose ``latest`` is an index of an index of ... (``levels`` deep), each child by its digest."""

    def __init__(self, levels: int) -> None:
        child, media_type = manifest(len(LAYER)), OCI_MANIFEST
        self.by_digest: dict[str, tuple[bytes, str]] = {}
        for _ in range(levels):
            self.by_digest[sha256(child)] = (child, media_type)
            descriptor = {"mediaType": media_type, "digest": sha256(child), "size": len(child)}
            descriptor["platform"] = {"architecture": "amd64", "os": "linux"}
            child, media_type = (
                json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]}).encode(),
                OCI_INDEX,
            )
        self.by_digest["latest"] = (child, media_type)
        self.fetched = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetched += 1
        content, media_type = self.by_digest[request.url.path.rpartition("/")[2]]
        return httpx.Response(200, content=content, headers={"Content-Type": media_type})


@pytest.mark.parametrize(
    "selection", [Selection(all_platforms=True), Selection(platform=Platform.parse("linux/amd64"))]
)
def test_indexes_nested_past_max_depth_stop_the_copy(tmp_path: Path, selection: Selection) -> None:
    source = Nested(MAX_DEPTH + 8)
    with pytest.raises(StoreError, match=f"indexes nest more than {MAX_DEPTH} levels"):
        copy_image(registry("src.test", source.handle), LayoutStore(tmp_path / "out", "v1"), selection)
    assert source.fetched == MAX_DEPTH + 1


def test_digest_is_the_hash_of_the_tagged_manifest_never_a_header_taken_on_trust(
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = manifest(len(LAYER))
    header = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": sha256(served)}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":  # what a registry answers: the length and digest, no body
            return httpx.Response(200, headers={**header, "Content-Length": str(len(served))})
        return httpx.Response(200, content=served, headers=header)

    ctx = Context(argparse.Namespace(reference="src.test/evil/app:latest", platform=None, json=False))
    ctx.clients[("src.test", "")] = registry("src.test", handle).client
    assert cmd_digest(ctx) == 0
    assert capsys.readouterr().out.strip() == sha256(served)
    header["Docker-Content-Digest"] = sha256(manifest(len(LAYER) + 1))  # another manifest's digest
    with pytest.raises(DigestMismatch):
        cmd_digest(ctx)
    assert capsys.readouterr().out == ""
