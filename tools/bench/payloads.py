"""What gets pushed: blob files on disk with a fresh digest per push, a small image, and the catalog seed layout.

A registry that already holds a blob may short-cut its commit, so every timed push sends a blob neither server
has seen: the file's last 16 bytes are rewritten and the digest is finished from a saved hash of the rest, so a
new digest costs no re-read. The catalog's repositories are written straight into distribution's on-disk layout
as the two directories a catalog walk looks for (``repositories/<name>/_layers`` is what distribution lists,
``_manifests`` what ours lists); both walks skip what lies below them, so links there would only cost time:
removing 10 000 repositories with their links took 255 s on a disk mounted with ``discard``, without 46 s.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20
SUFFIX = 16
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class BlobFile:
    """A file of ``size`` random bytes; ``fresh()`` gives it a new tail and returns the new digest."""

    def __init__(self, path: Path, size: int) -> None:
        if size <= SUFFIX:
            raise ValueError(f"a blob must be larger than {SUFFIX} bytes")
        self.path = path
        self.size = size
        self._head = hashlib.sha256()
        block = os.urandom(MiB)
        with path.open("wb") as out:
            written = 0
            while written < size - SUFFIX:
                # One random block, made distinct per MiB by its counter: cheap, and nothing repeats verbatim.
                chunk = (written // MiB).to_bytes(8, "big") + block[8:]
                chunk = chunk[: size - SUFFIX - written]
                out.write(chunk)
                self._head.update(chunk)
                written += len(chunk)
            out.write(bytes(SUFFIX))
        self.digest = self.fresh()

    def fresh(self) -> str:
        tail = os.urandom(SUFFIX)
        with self.path.open("r+b") as out:
            out.seek(self.size - SUFFIX)
            out.write(tail)
        digest = self._head.copy()
        digest.update(tail)
        self.digest = "sha256:" + digest.hexdigest()
        return self.digest


def blob_dir(root: Path, digest: str) -> Path:
    """Where a registry rooted at ``root`` keeps a blob (distribution's layout; ours is the same)."""
    algorithm, hexa = digest.split(":", 1)
    return root / "docker/registry/v2/blobs" / algorithm / hexa[:2] / hexa


@dataclass(frozen=True)
class Image:
    """A one-layer OCI image: its config, its layer and the manifest that names them."""

    config: bytes
    layer: bytes
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha256(self.manifest)


def small_image(layer_size: int = 4096) -> Image:
    layer = os.urandom(layer_size)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}}
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": sha256(layer), "size": len(layer)}],
    }
    return Image(config, layer, json.dumps(manifest, indent=2).encode())


def catalog_name(index: int) -> str:
    return f"catalog/repo-{index:05d}"


def seed_repositories(root: Path, count: int) -> None:
    """Make ``count`` repositories under ``root``'s repositories directory, as a catalog walk sees them: each a
    directory holding ``_layers`` and ``_manifests`` (the setup check makes sure both registries list them).
    """
    base = root / "docker/registry/v2/repositories"
    for index in range(count):
        repository = f"{base}/{catalog_name(index)}"
        for content in ("_layers", "_manifests"):
            os.makedirs(f"{repository}/{content}", exist_ok=True)
