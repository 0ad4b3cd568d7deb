"""The garbage-collection scenario: one seeded registry and what each GC mode deletes from it.

Pushed through a ``Pusher`` (the storage API directly, or a real server over HTTP), so the driver tier and the
interop tier check the same content:

- ``gc/a``: ``A0`` tagged ``v1``, then ``A1`` tagged ``v1`` (A0 is untagged but stays in v1's tag index); an
  untagged signature of each (``SIG1`` with subject A1, ``SIG0`` with subject A0, sharing the empty config
  ``EMPTY``); an ``ORPHAN`` blob uploaded and never referenced.
- ``gc/b``: ``B1`` tagged ``latest`` (shares the layer ``SHARED`` with A0 and A1); ``B0`` pushed by digest; an
  index ``IDX`` tagged ``multi`` whose children ``M1`` and ``M2`` were pushed by digest.

Labels name digests (``A0`` a manifest, ``A0.config``/``A0.layer`` its blobs) so expectations read as sets.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from registry_impl.storage.registry import Registry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
SIGNATURE = "application/vnd.example.signature.v1"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Pusher(Protocol):
    def blob(self, name: str, data: bytes) -> str: ...

    def manifest(self, name: str, reference: str | None, content: bytes, media_type: str) -> str: ...


class StoragePusher:
    """Writes through the storage layer, as the server's handlers do."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def blob(self, name: str, data: bytes) -> str:
        digest = self.registry.blobs.put(data)
        self.registry.repository(name).blobs.link(digest)
        return digest

    def manifest(self, name: str, reference: str | None, content: bytes, media_type: str) -> str:
        digest, _ = self.registry.repository(name).manifests.put(content, media_type, reference, None)
        return digest


class HttpPusher:
    """Pushes to a running registry, ours or distribution (manifests by tag or by digest)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def blob(self, name: str, data: bytes) -> str:
        """POST then PUT with the bytes: distribution 2.8.2 has no single-request upload."""
        digest = sha256(data)
        r = self.client.post(f"/v2/{name}/blobs/uploads/")
        assert r.status_code == 202, r.text
        location = r.headers["Location"]
        separator = "&" if "?" in location else "?"
        r = self.client.put(
            f"{location}{separator}digest={digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 201, r.text
        return digest

    def manifest(self, name: str, reference: str | None, content: bytes, media_type: str) -> str:
        digest = sha256(content)
        r = self.client.put(
            f"/v2/{name}/manifests/{reference or digest}",
            content=content,
            headers={"Content-Type": media_type},
        )
        assert r.status_code == 201, r.text
        return digest


@dataclass
class Seeded:
    labels: dict[str, str] = field(default_factory=dict)  # label -> digest
    contents: dict[str, bytes] = field(default_factory=dict)  # manifest digest -> bytes

    def digests(self, *labels: str) -> set[str]:
        return {self.labels[label] for label in labels}

    def names(self, digests: set[str]) -> set[str]:
        by_digest = {digest: label for label, digest in self.labels.items()}
        return {by_digest.get(d, d) for d in digests}


def _descriptor(media_type: str, digest: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _image(
    pusher: Pusher,
    seeded: Seeded,
    name: str,
    label: str,
    tag: str | None,
    layers: dict[str, bytes],
    subject: str | None = None,
) -> None:
    if subject is None:
        config_type, config = OCI_CONFIG, json.dumps({"os": "linux", "image": label}).encode()
        seeded.labels[f"{label}.config"] = pusher.blob(name, config)
        config_label = f"{label}.config"
    else:
        config_type, config, config_label = EMPTY_TYPE, b"{}", "EMPTY"
        seeded.labels["EMPTY"] = pusher.blob(name, config)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor(config_type, seeded.labels[config_label], config),
        "layers": [],
    }
    for layer_label, data in layers.items():
        seeded.labels[layer_label] = pusher.blob(name, data)
        document["layers"].append(_descriptor(OCI_LAYER, seeded.labels[layer_label], data))
    if subject is not None:
        document["artifactType"] = SIGNATURE
        subject_digest = seeded.labels[subject]
        document["subject"] = _descriptor(OCI_MANIFEST, subject_digest, seeded.contents[subject_digest])
    content = json.dumps(document).encode()
    seeded.labels[label] = pusher.manifest(name, tag, content, OCI_MANIFEST)
    seeded.contents[seeded.labels[label]] = content


def seed(pusher: Pusher) -> Seeded:
    seeded = Seeded()
    _image(pusher, seeded, "gc/a", "A0", "v1", {"SHARED": b"shared layer", "A0.layer": b"a0 layer"})
    _image(pusher, seeded, "gc/a", "A1", "v1", {"SHARED": b"shared layer", "A1.layer": b"a1 layer"})
    _image(pusher, seeded, "gc/a", "SIG1", None, {"SIG1.layer": b"signature of a1"}, subject="A1")
    _image(pusher, seeded, "gc/a", "SIG0", None, {"SIG0.layer": b"signature of a0"}, subject="A0")
    seeded.labels["ORPHAN"] = pusher.blob("gc/a", b"uploaded, never referenced")
    _image(pusher, seeded, "gc/b", "B1", "latest", {"SHARED": b"shared layer", "B1.layer": b"b1 layer"})
    _image(pusher, seeded, "gc/b", "B0", None, {"B0.layer": b"b0 layer"})
    _image(pusher, seeded, "gc/b", "M1", None, {"M1.layer": b"m1 layer"})
    _image(pusher, seeded, "gc/b", "M2", None, {"M2.layer": b"m2 layer"})
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                **_descriptor(OCI_MANIFEST, seeded.labels[m], seeded.contents[seeded.labels[m]]),
                "platform": {"os": "linux", "architecture": arch},
            }
            for m, arch in (("M1", "amd64"), ("M2", "arm64"))
        ],
    }
    seeded.labels["IDX"] = pusher.manifest("gc/b", "multi", json.dumps(index).encode(), OCI_INDEX)
    return seeded


# ---- what goes ----

# Without --delete-untagged every manifest is kept: only the blob nothing references goes (with its link).
DELETED_BLOBS = {"ORPHAN"}
DELETED_LAYER_LINKS = {("gc/a", "ORPHAN")}

# With --delete-untagged: untagged manifests go unless an index or a subject that survives keeps them.
UNTAGGED_DELETED_MANIFESTS = {("gc/a", "A0"), ("gc/a", "SIG0"), ("gc/b", "B0")}
UNTAGGED_DELETED_BLOBS = {
    "ORPHAN",
    *("A0", "A0.config", "A0.layer"),
    *("SIG0", "SIG0.layer"),  # EMPTY stays: SIG1 uses it
    *("B0", "B0.config", "B0.layer"),
}
UNTAGGED_DELETED_LAYER_LINKS = {
    ("gc/a", label) for label in ("ORPHAN", "A0.config", "A0.layer", "SIG0.layer")
} | {("gc/b", label) for label in ("B0.config", "B0.layer")}
UNTAGGED_DELETED_REFERRERS = {("gc/a", "A0", "SIG0")}

# distribution 2.8.2 with --delete-untagged also deletes, and why:
REFERENCE_ALSO_DELETES = {
    # it knows no referrers: an untagged signature goes though its subject A1 stays
    "SIG1": "untagged artifact whose subject survives (2.8.2 has no referrers)",
    "SIG1.layer": "layer of that artifact",
    "EMPTY": "config of that artifact (its only other user, SIG0, goes too)",
    # it deletes the revisions of an index's untagged children (their bytes stay, marked by the index), and so
    # never marks their configs and layers: distribution's known --delete-untagged bug with multi-arch images
    "M1.config": "config of an untagged child of a tagged index",
    "M1.layer": "layer of an untagged child of a tagged index",
    "M2.config": "config of an untagged child of a tagged index",
    "M2.layer": "layer of an untagged child of a tagged index",
}
