"""Schema 1 for migrations, against Debian's docker-registry (distribution 2.8.2) with
``compatibility.schema1.enabled``: a data directory it wrote is served by ours (media type, digest, the payload
it stored byte for byte, a valid signature), and one ours wrote is served by it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from testkit.processes import Server, Spawner

from registry_impl import schema1
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.gc import collect_garbage
from registry_impl.storage.registry import Registry

pytestmark = pytest.mark.interop
SCHEMA1 = schema1.MEDIA_TYPE
ENABLED = {"compatibility": {"schema1": {"enabled": True}}}


def _push(server: Server, name: str, tag: str, seed: bytes) -> tuple[bytes, str]:
    """A layer and a schema 1 manifest signed by a key generated here; the signed bytes and the digest."""
    layer = b"schema1 layer " + seed
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    with server.client() as c:
        started = c.post(f"/v2/{name}/blobs/uploads/")
        location = started.headers["Location"]
        done = c.put(location + ("&" if "?" in location else "?") + f"digest={layer_digest}", content=layer)
        assert done.status_code == 201, done.text
        document: dict[str, Any] = {
            "schemaVersion": 1,
            "name": name,
            "tag": tag,
            "architecture": "amd64",
            "fsLayers": [{"blobSum": layer_digest}],
            "history": [{"v1Compatibility": json.dumps({"id": hashlib.sha256(seed).hexdigest()})}],
        }
        signed = schema1.sign(document, ec.generate_private_key(ec.SECP256R1()))
        r = c.put(f"/v2/{name}/manifests/{tag}", content=signed, headers={"Content-Type": SCHEMA1})
        assert r.status_code == 201, r.text
        return signed, r.headers["Docker-Content-Digest"]


def _stored_blob(root: Path, digest: str) -> bytes:
    hex_ = digest.split(":", 1)[1]
    return (root / "docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data").read_bytes()


def _get(server: Server, name: str, reference: str) -> httpx.Response:
    with server.client() as c:
        r = c.get(f"/v2/{name}/manifests/{reference}", headers={"Accept": SCHEMA1})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == SCHEMA1
    return r


def test_a_data_directory_written_by_distribution_is_served(spawn: Spawner, tmp_path: Path) -> None:
    root = tmp_path / "data"
    reference = spawn.reference("reference", ENABLED, root=root)
    signed, digest = _push(reference, "old/app", "v1", b"reference")
    assert digest == schema1.parse_signed(signed).digest  # distribution digests the payload too
    reference.stop()
    stored = _stored_blob(root, digest)
    assert stored == schema1.parse_signed(signed).payload  # it stores the payload, without the signatures

    ours = spawn.ours("ours", root=root)  # schema 1 pushes stay off: reads need nothing
    for ref in ("v1", digest):
        served = _get(ours, "old/app", ref)
        assert served.headers["Docker-Content-Digest"] == digest
        assert schema1.parse_signed(served.content).payload == stored  # re-signed by our key, as distribution
    with ours.client() as c:
        refused = c.put("/v2/old/app/manifests/v2", content=signed, headers={"Content-Type": SCHEMA1})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "MANIFEST_INVALID"
    ours.stop()
    # Garbage collection reads the schema 1 payload and keeps what it references.
    report = collect_garbage(Registry(FilesystemDriver(rootdirectory=str(root))), dry_run=True)
    layer = json.loads(stored)["fsLayers"][0]["blobSum"]
    assert {digest, layer} <= report.marked and not report.blobs and not report.unreadable, report


def test_a_data_directory_written_by_ours_is_served_by_distribution(spawn: Spawner, tmp_path: Path) -> None:
    root = tmp_path / "data"
    ours = spawn.ours("ours", ENABLED, root=root)
    signed, digest = _push(ours, "new/app", "v1", b"ours")
    assert _get(ours, "new/app", "v1").content == signed  # byte for byte as pushed
    with ours.client() as c:
        bad = c.put(
            "/v2/new/app/manifests/v2",
            content=signed.replace(b'"v1"', b'"v2"', 1),
            headers={"Content-Type": SCHEMA1},
        )
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "MANIFEST_UNVERIFIED"
    ours.stop()
    reference = spawn.reference("reference", ENABLED, root=root)
    served = _get(reference, "new/app", digest)
    assert served.headers["Docker-Content-Digest"] == digest
    assert schema1.parse_signed(served.content).payload == schema1.parse_signed(signed).payload
