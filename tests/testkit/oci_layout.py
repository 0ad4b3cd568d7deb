"""OCI image layout directories (``oci-layout``, ``index.json``, ``blobs/sha256/…``) that skopeo reads as ``oci:PATH:TAG``.

``OciLayout(path)`` writes images with real gzip'd tar layers (small random files inside) and multi-arch
indexes, in OCI media types or Docker schema 2 ones, and reads layouts back (including ones skopeo wrote).
skopeo 1.9.3 only resolves ``index.json`` entries typed as OCI manifests or indexes, so a Docker-form image is
pushed to a registry with ``OciLayout.push`` (plain HTTP, what any client does) rather than with skopeo.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REF_NAME = "org.opencontainers.image.ref.name"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
PLATFORMS: tuple[tuple[str, str], ...] = (("linux", "amd64"), ("linux", "arm64"))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    platform: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            out["platform"] = self.platform
        if self.annotations:
            out["annotations"] = self.annotations
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Descriptor:
        return cls(
            value["mediaType"],
            value["digest"],
            value["size"],
            value.get("annotations") or {},
            value.get("platform"),
        )


@dataclass(frozen=True)
class Image:
    """A manifest written into a layout: its descriptor, its bytes and the blobs it references."""

    descriptor: Descriptor
    content: bytes
    config: Descriptor
    layers: tuple[Descriptor, ...]

    @property
    def digest(self) -> str:
        return self.descriptor.digest


@dataclass(frozen=True)
class Index:
    descriptor: Descriptor
    content: bytes
    images: tuple[Image, ...]

    @property
    def digest(self) -> str:
        return self.descriptor.digest


def random_layer(rng: random.Random, files: int = 3, file_size: int = 8192) -> tuple[bytes, bytes]:
    """A gzip'd tar of a directory with ``files`` random files of up to ``file_size`` bytes each:
    (compressed, uncompressed). Random bytes do not compress, so the blob is about as big as its files."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        top = f"dir-{rng.randrange(1 << 32):08x}"
        info = tarfile.TarInfo(top)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
        tar.addfile(info)
        for i in range(files):
            data = rng.randbytes(rng.randrange(min(512, file_size), file_size + 1))
            info = tarfile.TarInfo(f"{top}/file-{i}.bin")
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    uncompressed = raw.getvalue()
    return gzip.compress(uncompressed, mtime=0), uncompressed


class OciLayout:
    """An OCI image layout directory, created on first write."""

    def __init__(self, path: Path, seed: int | None = None) -> None:
        self.path = Path(path)
        self.rng = random.Random(seed)

    # --- reading -------------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        algorithm, hex_ = digest.split(":", 1)
        return self.path / "blobs" / algorithm / hex_

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def entries(self) -> list[Descriptor]:
        index = self.path / "index.json"
        if not index.exists():
            return []
        return [Descriptor.from_json(m) for m in json.loads(index.read_text())["manifests"]]

    def refs(self) -> dict[str, Descriptor]:
        return {d.annotations[REF_NAME]: d for d in self.entries() if REF_NAME in d.annotations}

    def manifest(self, tag: str) -> tuple[Descriptor, bytes]:
        descriptor = self.refs()[tag]
        return descriptor, self.read_blob(descriptor.digest)

    def layer_digests(self, digest: str) -> list[str]:
        """Layer digests of a manifest, or of every manifest of an index (in order)."""
        document = json.loads(self.read_blob(digest))
        if "manifests" in document:
            return [d for m in document["manifests"] for d in self.layer_digests(m["digest"])]
        return [layer["digest"] for layer in document["layers"]]

    def blob_digests(self, digest: str) -> list[str]:
        """The config and layer digests of a manifest, or of every manifest of an index (in order)."""
        document = json.loads(self.read_blob(digest))
        if "manifests" in document:
            return [d for m in document["manifests"] for d in self.blob_digests(m["digest"])]
        return [document["config"]["digest"], *(layer["digest"] for layer in document["layers"])]

    # --- writing -------------------------------------------------------------------------------------

    def put_blob(self, data: bytes, media_type: str) -> Descriptor:
        self.path.joinpath("blobs", "sha256").mkdir(parents=True, exist_ok=True)
        layout = self.path / "oci-layout"
        if not layout.exists():
            layout.write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        descriptor = Descriptor(media_type, sha256(data), len(data))
        self.blob_path(descriptor.digest).write_bytes(data)
        return descriptor

    def tag(self, tag: str, descriptor: Descriptor) -> None:
        """Point ``tag`` at ``descriptor`` in index.json (replacing an earlier entry of that name)."""
        kept = [d for d in self.entries() if d.annotations.get(REF_NAME) != tag]
        entry = Descriptor(descriptor.media_type, descriptor.digest, descriptor.size, {REF_NAME: tag})
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [d.to_json() for d in [*kept, entry]],
        }
        (self.path / "index.json").write_text(json.dumps(index, indent=2))

    def add_image(
        self,
        tag: str | None = "latest",
        *,
        layers: int = 2,
        platform: tuple[str, str] = ("linux", "amd64"),
        docker: bool = False,
        file_size: int = 8192,
    ) -> Image:
        """A runnable-looking image: ``layers`` random gzip'd tar layers and a config whose diff_ids match."""
        layer_type = DOCKER_LAYER_GZIP if docker else OCI_LAYER_GZIP
        layer_descriptors, diff_ids = [], []
        for _ in range(layers):
            compressed, uncompressed = random_layer(self.rng, file_size=file_size)
            layer_descriptors.append(self.put_blob(compressed, layer_type))
            diff_ids.append(sha256(uncompressed))
        os_, architecture = platform
        config = {
            "created": "2024-01-01T00:00:00Z",
            "architecture": architecture,
            "os": os_,
            "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [
                {"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i}"} for i in range(layers)
            ],
        }
        config_descriptor = self.put_blob(
            json.dumps(config).encode(), DOCKER_CONFIG if docker else OCI_CONFIG
        )
        manifest_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        manifest = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": config_descriptor.to_json(),
            "layers": [d.to_json() for d in layer_descriptors],
        }
        content = json.dumps(manifest, indent=3).encode()
        descriptor = self.put_blob(content, manifest_type)
        if tag is not None:
            self.tag(tag, descriptor)
        return Image(descriptor, content, config_descriptor, tuple(layer_descriptors))

    def add_index(
        self,
        tag: str = "latest",
        *,
        platforms: Sequence[tuple[str, str]] = PLATFORMS,
        layers: int = 2,
        docker: bool = False,
    ) -> Index:
        """A multi-arch index (or Docker manifest list) of one image per platform."""
        images = [self.add_image(None, layers=layers, platform=p, docker=docker) for p in platforms]
        index_type = DOCKER_LIST if docker else OCI_INDEX
        manifests = [
            Descriptor(
                image.descriptor.media_type,
                image.digest,
                image.descriptor.size,
                platform={"architecture": arch, "os": os_},
            ).to_json()
            for image, (os_, arch) in zip(images, platforms, strict=True)
        ]
        content = json.dumps({"schemaVersion": 2, "mediaType": index_type, "manifests": manifests}).encode()
        descriptor = self.put_blob(content, index_type)
        self.tag(tag, descriptor)
        return Index(descriptor, content, tuple(images))

    # --- pushing over HTTP ---------------------------------------------------------------------------

    def push(self, client: httpx.Client, repository: str, tag: str) -> str:
        """Upload the blobs and manifests behind ``tag`` (children first) and tag it; returns its digest."""
        descriptor = self.refs()[tag]
        self._push_manifest(client, repository, descriptor.digest, descriptor.media_type, tag)
        return descriptor.digest

    def _push_manifest(
        self, client: httpx.Client, repository: str, digest: str, media_type: str, tag: str | None
    ) -> None:
        content = self.read_blob(digest)
        document = json.loads(content)
        if "manifests" in document:
            for child in document["manifests"]:
                self._push_manifest(client, repository, child["digest"], child["mediaType"], None)
        else:
            for blob in [document["config"], *document["layers"]]:
                self._push_blob(client, repository, blob["digest"])
        r = client.put(
            f"/v2/{repository}/manifests/{tag or digest}",
            content=content,
            headers={"Content-Type": media_type},
        )
        assert r.status_code == 201, (r.status_code, r.text)
        assert r.headers["Docker-Content-Digest"] == digest

    def _push_blob(self, client: httpx.Client, repository: str, digest: str) -> None:
        if client.head(f"/v2/{repository}/blobs/{digest}").status_code == 200:
            return
        r = client.post(f"/v2/{repository}/blobs/uploads/")
        assert r.status_code == 202, (r.status_code, r.text)
        location = r.headers["Location"]
        # Keep the Location's own query (the reference signs its state there): append, never replace.
        location += ("&" if "?" in location else "?") + f"digest={digest}"
        r = client.put(
            location, content=self.read_blob(digest), headers={"Content-Type": "application/octet-stream"}
        )
        assert r.status_code == 201, (r.status_code, r.text)
