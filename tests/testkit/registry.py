"""Client-side helpers for tests: hashing, image pushing, error-envelope checks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Pushed:
    digest: str
    content: bytes
    media_type: str


class Helper:
    """Pushes blobs and manifests the way a client does, asserting each step."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def blob(self, name: str, data: bytes) -> str:
        digest = sha256(data)
        r = await self.client.post(
            f"/v2/{name}/blobs/uploads/",
            params={"digest": digest},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 201, r.text
        return digest

    async def image(
        self,
        name: str,
        tag: str | None = "latest",
        layers: int = 1,
        *,
        subject: Pushed | None = None,
        artifact_type: str | None = None,
        annotations: dict[str, str] | None = None,
        seed: bytes = b"",
    ) -> Pushed:
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed.hex()}).encode()
        layer_data = [b"layer-%d-" % i + seed for i in range(layers)]
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": await self.blob(name, config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": OCI_LAYER, "digest": await self.blob(name, d), "size": len(d)}
                for d in layer_data
            ],
        }
        if subject is not None:
            manifest["subject"] = {
                "mediaType": subject.media_type,
                "digest": subject.digest,
                "size": len(subject.content),
            }
        if artifact_type is not None:
            manifest["artifactType"] = artifact_type
        if annotations:
            manifest["annotations"] = annotations
        return await self.manifest(name, tag, manifest)

    async def manifest(
        self,
        name: str,
        reference: str | None,
        document: dict[str, Any] | bytes,
        media_type: str = OCI_MANIFEST,
        expect: int = 201,
    ) -> Pushed:
        content = document if isinstance(document, bytes) else json.dumps(document).encode()
        digest = sha256(content)
        r = await self.client.put(
            f"/v2/{name}/manifests/{reference or digest}",
            content=content,
            headers={"Content-Type": media_type},
        )
        assert r.status_code == expect, r.text
        return Pushed(digest, content, media_type)


def error_codes(response: httpx.Response) -> list[str]:
    """The codes of a registry error envelope (asserting its shape)."""
    body = response.json()
    assert set(body) == {"errors"}, body
    for error in body["errors"]:
        assert {"code", "message", "detail"} <= set(error), error
    return [error["code"] for error in body["errors"]]
