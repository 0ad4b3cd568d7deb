"""Referrers travel with ``dist copy``: a signature and an SBOM pushed with oras-py as referrers of a multi-platform
image (the signature on the index, the SBOM on one child, a second signature on the SBOM) go from our server
(referrers API) to Debian's distribution 2.8.2 (no API: ``sha256-<hex>`` tag-schema indexes written) and back to
ours, arriving with the same digests, and so does a signature in cosign's tag scheme (``sha256-<hex>.sig``);
``dist referrers`` lists them on both, ``dist attach`` pushes one.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from registry_client import Descriptor, RegistryClient
from testkit.dist import InProcessDist as Dist
from testkit.oci_layout import OciLayout
from testkit.processes import Server

oras_client = pytest.importorskip("oras.client", reason="oras-py is not installed (pip install oras)")
oras_oci = pytest.importorskip("oras.oci")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SIGNATURE_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"
SBOM_TYPE = "application/spdx+json"
ACCEPT = f"{OCI_MANIFEST}, {OCI_INDEX}"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest(server: Server, repository: str, reference: str) -> tuple[bytes, str]:
    with server.client() as client:
        r = client.get(f"/v2/{repository}/manifests/{reference}", headers={"Accept": ACCEPT})
    assert r.status_code == 200, (repository, reference, r.status_code, r.text)
    return r.content, r.headers["Content-Type"].split(";")[0]


def oras_push(
    server: Server, target: str, workdir: Path, subject: tuple[str, str, int] | None, **kwargs: Any
) -> str:
    """oras-py push (with a subject, when given); returns the pushed manifest's digest."""
    oras = oras_client.OrasClient(hostname=server.host, insecure=True)
    if subject is not None:
        media_type, digest, size = subject
        kwargs["subject"] = oras_oci.Subject(mediaType=media_type, digest=digest, size=size)
    cwd = Path.cwd()
    os.chdir(workdir)  # oras-py names layers after the paths it was given: keep them bare
    try:
        response = oras.push(
            target=target,
            disable_path_validation=True,
            quiet=True,
            **kwargs,
        )
    finally:
        os.chdir(cwd)
    assert response.status_code == 201, response.text
    repository, _, tag = target.partition("/")[2].rpartition(":")
    return sha256(manifest(server, repository, tag)[0])


@pytest.fixture
def signed(ours_filesystem: Server, tmp_path: Path) -> dict[str, Any]:
    """On ours: an index of two images, a signature on the index, an SBOM on the amd64 child, and a signature on
    the SBOM (a referrer of a referrer)."""
    server, repository = ours_filesystem, f"dist/signed-{uuid.uuid4().hex[:8]}"
    layout = OciLayout(tmp_path / "layout", seed=21)
    layout.add_index("v1", layers=2)
    with server.client() as client:
        index_digest = layout.push(client, repository, "v1")
    body, _ = manifest(server, repository, "v1")
    child = next(m for m in json.loads(body)["manifests"] if m["platform"]["architecture"] == "amd64")

    work = tmp_path / "files"
    work.mkdir()
    (work / "signature.json").write_text(json.dumps({"critical": {"image": {"docker-manifest-digest": "x"}}}))
    (work / "sbom.spdx.json").write_bytes(
        json.dumps({"spdxVersion": "SPDX-2.3", "pad": os.urandom(8).hex()}).encode()
    )
    (work / "config.json").write_text("{}")
    host = f"{server.host}/{repository}"
    signature = oras_push(
        server, f"{host}:sig", work, (OCI_INDEX, index_digest, len(body)),
        files=[f"signature.json:{SIGNATURE_TYPE}"], manifest_config=f"config.json:{SIGNATURE_TYPE}",
        manifest_annotations={"dev.cosignproject.cosign/signature": "MEUCIQ"},
    )  # fmt: skip
    sbom = oras_push(
        server, f"{host}:sbom", work, (OCI_MANIFEST, child["digest"], child["size"]),
        files=[f"sbom.spdx.json:{SBOM_TYPE}"], manifest_config=f"config.json:{SBOM_TYPE}",
    )  # fmt: skip
    sbom_body, _ = manifest(server, repository, sbom)
    sbom_signature = oras_push(
        server, f"{host}:sbom-sig", work, (OCI_MANIFEST, sbom, len(sbom_body)),
        files=[f"signature.json:{SIGNATURE_TYPE}"], manifest_config=f"config.json:{SIGNATURE_TYPE}",
    )  # fmt: skip
    cosign = oras_push(  # cosign's tag scheme: no subject, a tag named after the image's digest
        server, f"{host}:{index_digest.replace(':', '-')}.sig", work, None,
        files=[f"signature.json:{SIGNATURE_TYPE}"], manifest_config=f"config.json:{SIGNATURE_TYPE}",
    )  # fmt: skip
    return {
        "cosign": cosign,
        "repository": repository,
        "index": index_digest,
        "child": child["digest"],
        "referrers": {index_digest: {signature}, child["digest"]: {sbom}, sbom: {sbom_signature}},
    }


def listed(server: Server, repository: str, digest: str) -> dict[str, Descriptor]:
    """The referrers of ``digest`` as the client library reads them (API, else the tag schema), in-process."""
    with RegistryClient(server.url) as client:
        return {d.digest: d for d in client.referrers.list(repository, digest)}


def assert_referrers_arrived(
    source: Server, destination: Server, repository: str, target: str, signed: dict[str, Any]
) -> None:
    for subject, expected in signed["referrers"].items():
        at_destination = listed(destination, target, subject)
        assert set(at_destination) == expected, (subject, at_destination)
        at_source = listed(source, repository, subject)
        for digest in expected:
            assert manifest(destination, target, digest) == manifest(source, repository, digest)
            assert at_destination[digest].artifact_type == at_source[digest].artifact_type


def test_referrers_travel_to_the_tag_schema_and_back(
    tmp_path: Path, ours_filesystem: Server, reference: Server, signed: dict[str, Any]
) -> None:
    dist, ours, repository = Dist(tmp_path / "home"), ours_filesystem, signed["repository"]
    index, child = signed["index"], signed["child"]

    there = dist.json("copy", "--all", f"{ours.host}/{repository}:v1", f"{reference.host}/{repository}:v1")
    assert there["digest"] == index
    assert set(there["referrers"]) == {signed["cosign"], *set().union(*signed["referrers"].values())}
    cosign_tag = f"{index.replace(':', '-')}.sig"
    assert sha256(manifest(reference, repository, cosign_tag)[0]) == signed["cosign"]
    # distribution 2.8.2 has no referrers API: each subject got its tag-schema index
    for subject, expected in signed["referrers"].items():
        body, media_type = manifest(reference, repository, subject.replace(":", "-"))
        assert media_type == OCI_INDEX
        assert {m["digest"] for m in json.loads(body)["manifests"]} == expected
    assert_referrers_arrived(ours, reference, repository, repository, signed)

    back = f"{repository}-back"
    again = dist.json("copy", "--all", f"{reference.host}/{repository}:v1", f"{ours.host}/{back}:v1")
    assert (again["digest"], set(again["referrers"])) == (index, set(there["referrers"]))
    assert_referrers_arrived(reference, ours, repository, back, signed)
    assert sha256(manifest(ours, back, cosign_tag)[0]) == signed["cosign"]
    with ours.client() as client:  # ours answers the API, so no tag-schema tag was written
        assert client.head(f"/v2/{back}/manifests/{index.replace(':', '-')}").status_code == 404
        api = client.get(f"/v2/{back}/referrers/{child}").json()["manifests"]
    assert [(m["artifactType"], m["digest"]) for m in api] == [(SBOM_TYPE, *signed["referrers"][child])]

    synced = f"{repository}-synced"  # sync: the tag-schema and cosign tags are not tags to copy, they follow
    summary = dist.json("sync", "-q", f"{reference.host}/{repository}", f"{ours.host}/{synced}")
    assert summary["tags"] == {"copied": 1, "unchanged": 0, "failed": 0}  # v1 (and 4 referrers with it)
    assert summary["referrers"] == 4
    assert set(dist.json("ls", f"{ours.host}/{synced}")) == {"v1", cosign_tag}
    assert set(listed(ours, synced, child)) == signed["referrers"][child]

    plain = dist.json(
        "copy", "--all", "--no-referrers", f"{ours.host}/{repository}:v1", f"{ours.host}/{repository}-bare:v1"
    )
    assert "referrers" not in plain
    assert listed(ours, f"{repository}-bare", index) == {}
    shown = dist.json("referrers", f"{reference.host}/{repository}@{child}")  # the command, on the tag schema
    assert [(d["digest"], d["artifactType"]) for d in shown] == [(*signed["referrers"][child], SBOM_TYPE)]


def test_attach_and_list_on_both_registries(
    tmp_path: Path, ours_filesystem: Server, reference: Server, signed: dict[str, Any]
) -> None:
    dist, repository = Dist(tmp_path / "home"), signed["repository"]
    note = tmp_path / "provenance.json"
    note.write_text('{"builder": "ci"}')
    dist(
        "copy", "-q", "--all", f"{ours_filesystem.host}/{repository}:v1", f"{reference.host}/{repository}:v1"
    )
    for server in (ours_filesystem, reference):
        attached = dist.json(
            "attach", f"{server.host}/{repository}:v1", str(note),
            "--artifact-type", "application/vnd.example.provenance", "--annotation", "org.example.ci=yes",
        )  # fmt: skip
        assert attached["subject"] == signed["index"]
        assert attached["fallbackTag"] is (server is reference)
        found = listed(server, repository, signed["index"])
        assert found[attached["digest"]].artifact_type == "application/vnd.example.provenance"
        assert found[attached["digest"]].annotations == {"org.example.ci": "yes"}
        assert set(found) == {attached["digest"], *signed["referrers"][signed["index"]]}
    text = dist("referrers", f"{reference.host}/{repository}:v1", "--artifact-type", SIGNATURE_TYPE).stdout
    assert text.split()[0] in signed["referrers"][signed["index"]] and "provenance" not in text
