"""Manifest documents of every kind for tests: Docker schema 2, manifest lists, OCI images, indexes, artifacts."""

from __future__ import annotations

import base64
import json
from typing import Any

from testkit.registry import OCI_EMPTY, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, Helper, Pushed, sha256

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
EMPTY_JSON = b"{}"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def descriptor(media_type: str, content: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(content), "size": len(content), **extra}


def of(pushed: Pushed, **extra: Any) -> dict[str, Any]:
    """The descriptor of something pushed."""
    return descriptor(pushed.media_type, pushed.content, **extra)


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


async def docker_image(push: Helper, name: str, tag: str | None, seed: bytes = b"") -> Pushed:
    config = b'{"architecture":"amd64","os":"linux","docker":"%s"}' % seed.hex().encode()
    layer = b"docker-layer-" + seed
    await push.blob(name, config)
    await push.blob(name, layer)
    document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": descriptor(DOCKER_CONFIG, config),
        "layers": [descriptor(DOCKER_LAYER, layer)],
    }
    return await push.manifest(name, tag, document, DOCKER_MANIFEST)


def index_document(children: list[Pushed], media_type: str = OCI_INDEX, **extra: Any) -> dict[str, Any]:
    platforms = [{"architecture": arch, "os": "linux"} for arch in ("amd64", "arm64", "s390x", "ppc64le")]
    manifests = [of(child, platform=platforms[i % len(platforms)]) for i, child in enumerate(children)]
    return {"schemaVersion": 2, "mediaType": media_type, "manifests": manifests, **extra}


async def index(
    push: Helper, name: str, tag: str | None, children: list[Pushed], media_type: str = OCI_INDEX
) -> Pushed:
    return await push.manifest(name, tag, index_document(children, media_type), media_type)


async def artifact(
    push: Helper,
    name: str,
    tag: str | None,
    *,
    artifact_type: str | None = "application/vnd.example.sbom.v1",
    subject: Pushed | None = None,
    annotations: dict[str, str] | None = None,
    config_media_type: str = OCI_EMPTY,
    payload: bytes = b"artifact payload",
) -> Pushed:
    """An OCI 1.1 artifact: empty (or typed) config, one layer, optional subject and annotations."""
    config = EMPTY_JSON if config_media_type == OCI_EMPTY else b'{"kind":"%s"}' % payload
    await push.blob(name, config)
    await push.blob(name, payload)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(config_media_type, config),
        "layers": [descriptor("application/vnd.example.payload", payload)],
    }
    if artifact_type is not None:
        document["artifactType"] = artifact_type
    if subject is not None:
        document["subject"] = of(subject)
    if annotations:
        document["annotations"] = annotations
    return await push.manifest(name, tag, document)


def empty_artifact_document(**extra: Any) -> dict[str, Any]:
    """An artifact whose config and only layer are the empty descriptor, with inline ``data``."""
    empty = descriptor(OCI_EMPTY, EMPTY_JSON, data=base64.b64encode(EMPTY_JSON).decode())
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.signature.v1",
        "config": empty,
        "layers": [empty],
        **extra,
    }


__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_FOREIGN",
    "DOCKER_LAYER",
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "EMPTY_DIGEST",
    "EMPTY_JSON",
    "OCI_CONFIG",
    "OCI_LAYER",
    "artifact",
    "descriptor",
    "docker_image",
    "empty_artifact_document",
    "encode",
    "index",
    "index_document",
    "of",
]
