"""``docker save`` tarballs (docker-archive) as a store.

Reading: ``manifest.json`` names each image's config and layer files. When the archive also carries an OCI layout
(``index.json`` + ``blobs/``, as Docker 25+ and this tool write) and one of its manifests has exactly that config
and those layers, that manifest is used byte for byte, so digests survive a round trip. Otherwise a Docker schema 2
manifest is built: the layer files as they are (gzip/zstd detected from their first bytes, plain tars typed
``…rootfs.diff.tar``), config typed as Docker's. Uncompressed archives are read in place (member offsets); a
compressed one is unpacked to a temporary directory first.

Writing: the blobs are staged in an OCI layout beside the target (in parallel, verified), then one tar is written
with ``manifest.json`` (``Config``/``Layers`` pointing at ``blobs/sha256/…``, ``RepoTags``), ``index.json``,
``oci-layout`` and the blobs, and renamed over the target. Layers stay compressed: ``docker load`` and skopeo
decompress them; ``docker save``'s own uncompressed layers would change every layer digest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from registry_client import Descriptor, Manifest, Opener
from registry_spec import mediatypes as mt

from .layout import REF_NAME, LayoutStore
from .stores import BlobOutcome, Progress, Store, StoreError

__all__ = ["ArchiveStore"]

DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
IMAGE_NAME = "io.containerd.image.name"
_COMPRESSED = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
READ_SIZE = 1 << 20


def _compression(head: bytes) -> str | None:
    return next((kind for magic, kind in _COMPRESSED.items() if head.startswith(magic)), None)


class ArchiveStore:
    """One image in a docker-archive file; ``name`` picks it by ``RepoTags`` (reading) or records it (writing)."""

    holds_indexes = False

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = Path(path)
        self.explicit_name = name
        self._members: dict[str, tuple[int, int]] | None = None
        self._unpacked: Path | None = None
        self._blobs: dict[str, str] = {}
        self._entry: dict[str, Any] | None = None
        self._staging: LayoutStore | None = None
        self._root: Manifest | None = None
        self._name: str | None = None
        self._lock = threading.RLock()

    def describe(self) -> str:
        return f"docker-archive:{self.path}" + (f":{self.explicit_name}" if self.explicit_name else "")

    def name(self) -> str | None:
        if not self.path.is_file():
            return None
        try:
            tags = self._load_entry().get("RepoTags") or []
        except StoreError:
            return None
        return str(tags[0]) if tags else None

    # --- reading -------------------------------------------------------------------------------------

    def _index(self) -> dict[str, tuple[int, int]]:
        """Member name -> (offset, size) of the uncompressed archive (unpacking a compressed one first)."""
        with self._lock:
            if self._members is None:
                self._members = self._scan()
            return self._members

    def _scan(self) -> dict[str, tuple[int, int]]:
        try:
            with open(self.path, "rb") as f:
                kind = _compression(f.read(6))
            members: dict[str, tuple[int, int]] = {}
            if kind is not None:
                self._unpacked = Path(tempfile.mkdtemp(prefix=".dist-unpacked-", dir=self.path.parent))
                with tarfile.open(self.path, "r:*") as tar:
                    tar.extractall(self._unpacked, filter="data")
            else:
                with tarfile.open(self.path, "r:") as tar:
                    links = {}
                    for member in tar:
                        name = str(PurePosixPath(member.name))
                        if member.isreg():
                            members[name] = (member.offset_data, member.size)
                        elif member.issym() or member.islnk():
                            base = PurePosixPath(name).parent if member.issym() else PurePosixPath()
                            links[name] = os.path.normpath(str(base / member.linkname))
                    for name, target in links.items():
                        if target in members:
                            members[name] = members[target]
        except (OSError, tarfile.TarError) as exc:
            raise StoreError(f"{self.path}: cannot read archive ({exc})") from exc
        return members

    def _read(self, name: str) -> bytes:
        return b"".join(self._chunks(name, 0))

    def _chunks(self, name: str, offset: int) -> Iterator[bytes]:
        members = self._index()
        name = str(PurePosixPath(name))
        if self._unpacked is not None:
            path = self._unpacked / name
            if not path.is_file():
                raise StoreError(f"{self.path}: no member {name}")
            start, end, file = offset, path.stat().st_size, path
        elif name in members:
            start, size = members[name]
            start, end, file = start + offset, start + size, self.path
        else:
            raise StoreError(f"{self.path}: no member {name}")
        with open(file, "rb") as f:
            f.seek(start)
            position = start
            while position < end:
                chunk = f.read(min(READ_SIZE, end - position))
                if not chunk:
                    raise StoreError(f"{self.path}: member {name} is truncated")
                position += len(chunk)
                yield chunk

    def _load_entry(self) -> dict[str, Any]:
        if self._entry is not None:
            return self._entry
        try:
            entries = json.loads(self._read("manifest.json"))
        except ValueError as exc:
            raise StoreError(f"{self.path}: manifest.json is not JSON") from exc
        if not isinstance(entries, list) or not entries:
            raise StoreError(f"{self.path}: manifest.json lists no image")
        if self.explicit_name is not None:
            wanted = _normal(self.explicit_name)
            chosen = [e for e in entries if wanted in {_normal(t) for t in e.get("RepoTags") or []}]
            if not chosen:
                raise StoreError(f"{self.path}: no image named {self.explicit_name}")
            entries = chosen
        elif len(entries) > 1:
            raise StoreError(
                f"{self.path}: {len(entries)} images; name one with docker-archive:PATH:NAME:TAG"
            )
        self._entry = dict(entries[0])
        return self._entry

    def root(self) -> Manifest:
        entry = self._load_entry()
        config_path, layer_paths = str(entry["Config"]), [str(p) for p in entry.get("Layers") or []]
        found = self._oci_manifest(config_path, layer_paths)
        if found is not None:
            return found
        config = self._read(config_path)
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        self._blobs[config_digest] = config_path
        layers = [self._describe_layer(path) for path in layer_paths]
        document = {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST,
            "config": {"mediaType": mt.DOCKER_CONFIG, "size": len(config), "digest": config_digest},
            "layers": [layer.to_json() for layer in layers],
        }
        return Manifest.from_document(document, mt.DOCKER_MANIFEST)

    def _describe_layer(self, path: str) -> Descriptor:
        hasher, size, head = hashlib.sha256(), 0, b""
        for chunk in self._chunks(path, 0):
            head = head or chunk[:6]
            hasher.update(chunk)
            size += len(chunk)
        digest = "sha256:" + hasher.hexdigest()
        self._blobs[digest] = path
        kind = _compression(head)
        media_type = {"gzip": mt.DOCKER_LAYER, "zstd": mt.OCI_LAYER_ZSTD, None: DOCKER_LAYER_TAR}.get(kind)
        if media_type is None:
            raise StoreError(f"{self.path}: layer {path} is {kind}-compressed, which images cannot use")
        return Descriptor(media_type, digest, size)

    def _oci_manifest(self, config_path: str, layer_paths: list[str]) -> Manifest | None:
        """The manifest of the archive's OCI layout that has exactly this config and these layers, if any."""
        if "index.json" not in self._index() and not (
            self._unpacked and (self._unpacked / "index.json").exists()
        ):
            return None
        want = [_blob_digest(config_path), *(_blob_digest(p) for p in layer_paths)]
        if None in want:
            return None
        try:
            pending = [
                Descriptor.from_json(d) for d in json.loads(self._read("index.json")).get("manifests") or []
            ]
        except (ValueError, KeyError, StoreError):
            return None
        while pending:
            descriptor = pending.pop(0)
            try:
                manifest = Manifest(self._read(_blob_path(descriptor.digest)), descriptor.media_type, "")
            except StoreError:
                continue
            if manifest.digest != descriptor.digest:
                continue
            if manifest.is_index:
                pending.extend(manifest.manifests)
            elif [d.digest for d in manifest.blobs] == want:
                self._blobs.update({d.digest: _blob_path(d.digest) for d in manifest.blobs})
                return manifest
        return None

    def manifest(self, descriptor: Descriptor) -> Manifest:
        return Manifest(self._read(_blob_path(descriptor.digest)), descriptor.media_type, descriptor.digest)

    def opener(self, descriptor: Descriptor) -> Opener:
        if not self._blobs:
            self.root()
        path = self._blobs.get(descriptor.digest) or _blob_path(descriptor.digest)
        return lambda offset: self._chunks(path, offset)

    # --- writing -------------------------------------------------------------------------------------

    def _stage(self) -> LayoutStore:
        with self._lock:  # blobs arrive from several threads at once; one staging directory for all
            if self._staging is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=".dist-archive-", dir=self.path.parent))
                self._staging = LayoutStore(staging)
            return self._staging

    def put_blob(self, descriptor: Descriptor, source: Store, progress: Progress) -> BlobOutcome:
        return self._stage().put_blob(descriptor, source, progress)

    def put_manifest(self, manifest: Manifest, *, root: bool, name: str | None) -> None:
        if manifest.is_index:
            raise StoreError("a docker-archive holds one image, not an index: choose one with --platform")
        self._stage().put_manifest(manifest, root=root, name=name)
        if root:
            self._root, self._name = manifest, self.explicit_name or name

    def commit(self) -> None:
        if self._root is None or self._staging is None:
            return
        staging, root = self._staging, self._root
        entry = {
            "Config": _blob_path(root.config.digest) if root.config else None,
            "RepoTags": [self._name] if self._name else None,
            "Layers": [_blob_path(d.digest) for d in root.layers],
        }
        annotations = {REF_NAME: self._name.rpartition(":")[2], IMAGE_NAME: self._name} if self._name else {}
        index = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                Descriptor(root.media_type, root.digest, len(root.content), annotations=annotations).to_json()
            ],
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        os.close(fd)
        try:
            with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
                _add_bytes(tar, "oci-layout", (staging.path / "oci-layout").read_bytes())
                _add_bytes(tar, "index.json", json.dumps(index).encode())
                for blob in sorted((staging.path / "blobs").glob("*/*")):
                    if not blob.name.startswith("."):
                        _add_file(tar, f"blobs/{blob.parent.name}/{blob.name}", blob)
                _add_bytes(tar, "manifest.json", json.dumps([entry]).encode())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            self.abort()

    def abort(self) -> None:
        for directory in (self._staging.path if self._staging else None, self._unpacked):
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
        self._staging = None
        self._unpacked = None
        self._members = None


def _blob_path(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


def _blob_digest(path: str) -> str | None:
    """``blobs/sha256/<hex>`` (or ``<hex>.json``/``<hex>.tar``, skopeo's names are not content digests of
    compressed layers, so only the OCI form counts) -> ``sha256:<hex>``."""
    parts = PurePosixPath(path).parts
    if len(parts) == 3 and parts[0] == "blobs":
        return f"{parts[1]}:{parts[2]}"
    return None


def _normal(name: str) -> str:
    """Compare image names the way docker prints them: no ``docker.io/``, no ``library/``."""
    for prefix in ("docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return name if ":" in name.rpartition("/")[2] else name + ":latest"


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o444, 0
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_tarinfo(name, len(data)), io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> None:
    with open(path, "rb") as f:
        tar.addfile(_tarinfo(name, path.stat().st_size), f)
