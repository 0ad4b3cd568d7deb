"""OCI image layout directories (``oci-layout``, ``index.json``, ``blobs/<alg>/<hex>``) as a store.

An image is found by its ``org.opencontainers.image.ref.name`` annotation in ``index.json`` (the tag), or is the
only entry there. Blobs are written to a temporary name, verified against their digest and renamed, so a broken
copy never leaves a blob with wrong content; ``index.json`` changes only in ``commit``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from registry_client import Descriptor, DigestMismatch, Manifest, Opener, file_opener
from registry_client.references import check_digest
from registry_spec import mediatypes as mt

from .stores import BlobOutcome, Progress, Store, StoreError

__all__ = ["REF_NAME", "LayoutStore"]

REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}


class LayoutStore:
    """One image (by tag) in an OCI layout directory."""

    holds_indexes = True

    def __init__(self, path: Path, tag: str | None = None) -> None:
        self.path = Path(path)
        self.tag = tag
        self._root: Manifest | None = None

    def describe(self) -> str:
        return f"oci:{self.path}" + (f":{self.tag}" if self.tag else "")

    def name(self) -> str | None:
        return None

    # --- reading -------------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        algorithm, _, encoded = check_digest(digest).partition(":")
        return self.path / "blobs" / algorithm / encoded

    def entries(self) -> list[Descriptor]:
        index = self.path / "index.json"
        if not index.is_file():
            if not self.path.exists():
                raise StoreError(f"{self.path}: no such OCI layout directory")
            raise StoreError(f"{self.path}: not an OCI layout (no index.json)")
        try:
            document = json.loads(index.read_bytes())
            return [Descriptor.from_json(d) for d in document.get("manifests") or []]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{index}: unreadable ({exc})") from exc

    def root(self) -> Manifest:
        entries = self.entries()
        if self.tag is not None:
            found = [d for d in entries if d.annotations.get(REF_NAME) == self.tag]
            if not found:
                tags = sorted(d.annotations[REF_NAME] for d in entries if REF_NAME in d.annotations)
                raise StoreError(
                    f"{self.path}: no image tagged {self.tag!r} (tags: {', '.join(tags) or 'none'})"
                )
            return self.manifest(found[-1])
        if len(entries) != 1:
            raise StoreError(f"{self.path}: {len(entries)} images in index.json; name one with oci:PATH:TAG")
        return self.manifest(entries[0])

    def manifest(self, descriptor: Descriptor) -> Manifest:
        content = self.read(descriptor.digest)
        return Manifest(content, descriptor.media_type if descriptor.media_type else "", descriptor.digest)

    def read(self, digest: str) -> bytes:
        try:
            content = self.blob_path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"{self.path}: blob {digest} is missing") from exc
        algorithm = digest.partition(":")[0]
        actual = f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"
        if actual != digest:
            raise DigestMismatch(digest, actual, f"{self.path} blob")
        return content

    def opener(self, descriptor: Descriptor) -> Opener:
        path = self.blob_path(descriptor.digest)
        if not path.is_file():
            raise StoreError(f"{self.path}: blob {descriptor.digest} is missing")
        return file_opener(path)

    # --- writing -------------------------------------------------------------------------------------

    def put_blob(self, descriptor: Descriptor, source: Store, progress: Progress) -> BlobOutcome:
        target = self.blob_path(descriptor.digest)
        if target.is_file() and target.stat().st_size == descriptor.size:
            progress(descriptor.size)
            return "skipped"
        self.write_stream(descriptor.digest, source.opener(descriptor)(0), progress)
        return "copied"

    def write_stream(self, digest: str, chunks: Any, progress: Progress | None = None) -> None:
        """Write ``chunks`` as blob ``digest``, verified before it takes its name."""
        target = self.blob_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._ensure_layout()
        algorithm = digest.partition(":")[0]
        hasher = hashlib.new(algorithm)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    hasher.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(len(chunk))
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != digest:
                raise DigestMismatch(digest, actual, "copied blob")
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_manifest(self, manifest: Manifest, *, root: bool, name: str | None) -> None:
        self.write_stream(manifest.digest, [manifest.content])
        if root:
            self._root = manifest

    def commit(self) -> None:
        if self._root is None:
            return
        index_path = self.path / "index.json"
        entries = self.entries() if index_path.is_file() else []
        descriptor = self._root.descriptor
        if self.tag is not None:
            kept = [d for d in entries if d.annotations.get(REF_NAME) != self.tag]
            entry = Descriptor(
                descriptor.media_type, descriptor.digest, descriptor.size, annotations={REF_NAME: self.tag}
            )
        else:
            kept = [d for d in entries if d.digest != descriptor.digest or d.annotations]
            entry = descriptor
        document: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [d.to_json() for d in [*kept, entry]],
        }
        _write_atomic(index_path, json.dumps(document, indent=2).encode())

    def abort(self) -> None:
        pass  # blobs are content-addressed and complete; index.json was not touched

    def _ensure_layout(self) -> None:
        marker = self.path / "oci-layout"
        if not marker.exists():
            self.path.mkdir(parents=True, exist_ok=True)
            _write_atomic(marker, json.dumps(LAYOUT_VERSION).encode())


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
