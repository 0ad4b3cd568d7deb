"""The content a run pushes: random blobs, image configs, a small gzip'd tar layer, manifests, indexes, artifacts.

Everything is built from one ``random.Random``, so a seeded run pushes the same bytes every time and an
unseeded one pushes fresh digests (never already in the registry).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from dataclasses import dataclass
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
EMPTY_JSON = b"{}"
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
ANNOTATION = "org.opencontainers.conformance.test"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    data: bytes
    media_type: str = "application/octet-stream"

    @property
    def digest(self) -> str:
        return sha256(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


@dataclass(frozen=True)
class Manifest:
    content: bytes
    media_type: str
    blobs: tuple[Blob, ...] = ()

    @property
    def digest(self) -> str:
        return sha256(self.content)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.content), **extra}


def encode(document: dict[str, Any]) -> bytes:
    """Manifests go out indented, as most clients write them: the digest is of these exact bytes."""
    return json.dumps(document, indent="\t").encode()


class Content:
    """A factory of unique content for one run."""

    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)

    def token(self, length: int = 16) -> str:
        return "".join(self.random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(length))

    def blob(self, size: int = 42, media_type: str = "application/octet-stream") -> Blob:
        return Blob(self.random.randbytes(size), media_type)

    def config(self, media_type: str = OCI_CONFIG) -> Blob:
        document = {
            "architecture": "amd64",
            "os": "linux",
            "author": self.token(),
            "rootfs": {"type": "layers", "diff_ids": []},
        }
        return Blob(json.dumps(document, indent="\t").encode(), media_type)

    def layer(self, media_type: str = OCI_LAYER_GZIP) -> Blob:
        """A gzip'd tar holding one small text file (fixed mtimes: the bytes depend on the seed only)."""
        text = f"registry-validate layer {self.token()}\n".encode()
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            info = tarfile.TarInfo("test.txt")
            info.size, info.mtime, info.mode = len(text), 0, 0o644
            tar.addfile(info, io.BytesIO(text))
        return Blob(gzip.compress(raw.getvalue(), mtime=0), media_type)

    def image(
        self,
        config: Blob,
        layers: list[Blob],
        *,
        media_type: str = OCI_MANIFEST,
        subject: Manifest | None = None,
        artifact_type: str | None = None,
        annotations: dict[str, str] | None = None,
    ) -> Manifest:
        document: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type}
        if artifact_type is not None:
            document["artifactType"] = artifact_type
        document["config"] = config.descriptor()
        document["layers"] = [layer.descriptor() for layer in layers]
        if subject is not None:
            document["subject"] = subject.descriptor()
        if annotations:
            document["annotations"] = annotations
        return Manifest(encode(document), media_type, (config, *layers))

    def index(
        self,
        children: list[Manifest],
        *,
        media_type: str = OCI_INDEX,
        subject: Manifest | None = None,
        artifact_type: str | None = None,
        annotations: dict[str, str] | None = None,
    ) -> Manifest:
        platforms = [("amd64", "linux"), ("arm64", "linux"), ("s390x", "linux")]
        entries = [
            child.descriptor(platform={"architecture": arch, "os": os})
            for child, (arch, os) in zip(children, platforms * len(children), strict=False)
        ]
        document: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type}
        if artifact_type is not None:
            document["artifactType"] = artifact_type
        document["manifests"] = entries
        if subject is not None:
            document["subject"] = subject.descriptor()
        if annotations:
            document["annotations"] = annotations
        return Manifest(encode(document), media_type)

    def docker_image(self) -> Manifest:
        """A Docker schema 2 image: Docker config and layer media types."""
        return self.image(self.config(DOCKER_CONFIG), [self.layer(DOCKER_LAYER)], media_type=DOCKER_MANIFEST)


def empty_config() -> Blob:
    return Blob(EMPTY_JSON, OCI_EMPTY)
