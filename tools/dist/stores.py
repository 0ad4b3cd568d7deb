"""Where images live: the store protocol, location parsing, and the registry store.

A location on the command line is one of::

    [docker://]host[:port]/repository[:tag|@digest]     a registry (RegistryStore)
    oci:PATH[:tag]                                        an OCI image layout directory (layout.LayoutStore)
    docker-archive:PATH[:name:tag]                        a `docker save` tarball (archive.ArchiveSource / ...Destination)

Every store can be read from and written to through the same few calls, so ``copy`` needs no case per pair.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from registry_client import Descriptor, Manifest, Opener, RegistryClient
from registry_client.references import ImageReference, parse_reference

from .relay import Broken, Refused, relay

__all__ = ["BlobOutcome", "Location", "RegistryStore", "Store", "StoreError", "parse_location"]

BlobOutcome = Literal["copied", "skipped", "mounted"]
Progress = Callable[[int], None]


class StoreError(Exception):
    """A problem with a location that is not the registry's (a missing file, an ambiguous layout)."""


class Store(Protocol):
    """An image source or destination."""

    #: Whether the store can hold a multi-platform index (a docker-archive cannot).
    holds_indexes: bool

    def describe(self) -> str: ...

    def name(self) -> str | None:
        """A docker-style ``name:tag`` for the image, when the store has one (archives record it)."""
        ...

    def root(self) -> Manifest:
        """The manifest the location points at."""
        ...

    def manifest(self, descriptor: Descriptor) -> Manifest:
        """A manifest this store holds, by descriptor (children of an index)."""
        ...

    def opener(self, descriptor: Descriptor) -> Opener: ...

    def put_blob(self, descriptor: Descriptor, source: Store, progress: Progress) -> BlobOutcome: ...

    def put_manifest(self, manifest: Manifest, *, root: bool, name: str | None) -> None:
        """Store a manifest; ``root`` is the one the location names (tagged), pushed last."""
        ...

    def commit(self) -> None:
        """Make what was written visible (index.json, the archive file); a no-op for registries."""
        ...

    def abort(self) -> None:
        """Drop whatever a failed copy left half-written."""
        ...


@dataclass(frozen=True)
class Location:
    """A parsed command-line location."""

    kind: Literal["registry", "oci", "docker-archive"]
    reference: ImageReference | None = None
    path: Path | None = None
    tag: str | None = None

    def __str__(self) -> str:
        if self.kind == "registry":
            return str(self.reference)
        return f"{self.kind}:{self.path}" + (f":{self.tag}" if self.tag else "")


def parse_location(text: str) -> Location:
    """Parse a location; a bare reference is a registry (``docker://`` accepted, as skopeo writes it)."""
    for prefix in ("oci:", "docker-archive:"):
        if text.startswith(prefix):
            path, _, tag = text[len(prefix) :].partition(":")  # skopeo splits at the first colon too
            if not path:
                raise StoreError(f"{text!r}: no path after {prefix}")
            kind: Literal["oci", "docker-archive"] = "oci" if prefix == "oci:" else "docker-archive"
            return Location(kind, path=Path(path), tag=tag or None)
    text = text.removeprefix("docker://")
    return Location("registry", reference=parse_reference(text))


log = logging.getLogger("dist")
#: ``DIST_RELAY=0`` sends every blob through the client (``relay`` off), e.g. to compare the two.
RELAY = os.environ.get("DIST_RELAY", "1") != "0"

_claims: dict[tuple[str, str, str], threading.Lock] = {}
_claims_lock = threading.Lock()


def _claim(key: tuple[str, str, str]) -> threading.Lock:
    """One lock per (registry, repository, digest) in this process: parallel copies sharing a blob (``sync``)
    upload it once, the others then find it there (two concurrent uploads of one blob upset distribution 2.8.2)."""
    with _claims_lock:
        return _claims.setdefault(key, threading.Lock())


class RegistryStore:
    """An image in a registry repository."""

    holds_indexes = True

    def __init__(self, client: RegistryClient, reference: ImageReference) -> None:
        self.client = client
        self.ref = reference

    def describe(self) -> str:
        return str(self.ref)

    def name(self) -> str | None:
        return f"{self.ref.host}/{self.ref.repository}:{self.ref.tag}" if self.ref.tag else None

    def root(self) -> Manifest:
        return self.client.manifests.get(self.ref.repository, self.ref.reference)

    def manifest(self, descriptor: Descriptor) -> Manifest:
        return self.client.manifests.get(self.ref.repository, descriptor.digest)

    def opener(self, descriptor: Descriptor) -> Opener:
        return self.client.blobs.opener(self.ref.repository, descriptor.digest, descriptor.size)

    def unverified(self, descriptor: Descriptor) -> Opener:
        """The blob's bytes, not hashed on the way (a destination registry verifies the digest itself), and no
        more of them than the descriptor's size."""
        blobs, repository, digest, size = self.client.blobs, self.ref.repository, descriptor.digest, descriptor.size
        return lambda offset: blobs.stream(repository, digest, offset=offset, verify=False, size=size)

    def put_blob(self, descriptor: Descriptor, source: Store, progress: Progress) -> BlobOutcome:
        with _claim((self.client.base_url, self.ref.repository, descriptor.digest)):
            return self._put_blob(descriptor, source, progress)

    def _put_blob(self, descriptor: Descriptor, source: Store, progress: Progress) -> BlobOutcome:
        blobs, repository = self.client.blobs, self.ref.repository
        if blobs.exists(repository, descriptor.digest) is not None:
            progress(descriptor.size)
            return "skipped"
        upload = None
        if (
            isinstance(source, RegistryStore)
            and source.client.base_url == self.client.base_url
            and source.ref.repository != repository
        ):
            upload = blobs.mount(repository, descriptor.digest, source.ref.repository)
            if upload is None:
                progress(descriptor.size)
                return "mounted"
        if isinstance(source, RegistryStore) and RELAY:
            upload = upload or blobs.start(repository)
            try:
                relay(source.client, source.ref.repository, self.client, upload, descriptor, progress)
                blobs.finish(upload, descriptor.digest)
                log.info("%s: relayed", descriptor.digest)
                return "copied"
            except Refused:
                pass
            except Broken as exc:
                log.info("%s; resuming through the client", exc)
                blobs.sleep(blobs.settle)  # let the registry finish with the broken request
                upload = blobs.recover(repository, upload, descriptor.digest)
                if upload is None:
                    progress(descriptor.size)
                    return "copied"
        blobs.upload(
            repository,
            source.unverified(descriptor) if isinstance(source, RegistryStore) else source.opener(descriptor),
            descriptor.digest,
            descriptor.size,
            progress=progress,
            upload=upload,
        )
        return "copied"

    def put_manifest(self, manifest: Manifest, *, root: bool, name: str | None) -> None:
        if root and self.ref.digest is not None and self.ref.digest != manifest.digest:
            raise StoreError(f"{self.ref} names digest {self.ref.digest}, but the image is {manifest.digest}")
        reference = self.ref.tag if root and self.ref.tag else manifest.digest
        self.client.manifests.put(self.ref.repository, reference, manifest)

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass
