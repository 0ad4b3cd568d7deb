"""oras-py against our server: artifacts with custom media types round-trip, referrers appear in the API."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from testkit.processes import Server

oras_client = pytest.importorskip("oras.client", reason="oras-py is not installed (pip install oras)")
oras_oci = pytest.importorskip("oras.oci")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DATA_TYPE = "application/vnd.example.data.v1"
CONFIG_TYPE = "application/vnd.example.config.v1+json"
SBOM_TYPE = "application/vnd.example.sbom.v1+json"
SIGNATURE_TYPE = "application/vnd.example.signature.v1"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def oras(ours: Server) -> Any:
    return oras_client.OrasClient(hostname=ours.host, insecure=True)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, bytes]:
    """Two files of random bytes, a JSON config, and a directory oras pushes as a tar.gz layer."""
    contents = {"model.bin": os.urandom(300_000), "notes.txt": b"hello from the interop tier\n"}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "config.json").write_text(json.dumps({"kind": "example", "version": 1}))
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "deep.txt").write_bytes(b"deep")
    (tree / "top.txt").write_bytes(b"top")
    return contents


def manifest(server: Server, repository: str, reference: str) -> tuple[bytes, str, str]:
    with server.client() as client:
        r = client.get(
            f"/v2/{repository}/manifests/{reference}", headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"}
        )
    assert r.status_code == 200, (r.status_code, r.text)
    return r.content, r.headers["Content-Type"], r.headers["Docker-Content-Digest"]


def referrers(
    server: Server, repository: str, digest: str, artifact_type: str | None = None
) -> dict[str, Any]:
    params = {"artifactType": artifact_type} if artifact_type else {}
    with server.client() as client:
        r = client.get(f"/v2/{repository}/referrers/{digest}", params=params)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith(OCI_INDEX)
    if artifact_type:
        assert r.headers.get("OCI-Filters-Applied") == "artifactType"
    body: dict[str, Any] = r.json()
    assert (body["schemaVersion"], body["mediaType"]) == (2, OCI_INDEX)
    return body


def push(oras: Any, target: str, tmp_path: Path, **kwargs: Any) -> None:
    cwd = Path.cwd()
    os.chdir(tmp_path)  # oras-py names layers after the paths it was given: keep them bare
    try:
        response = oras.push(target=target, disable_path_validation=True, quiet=True, **kwargs)
    finally:
        os.chdir(cwd)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("chunked", [False, True], ids=["monolithic", "chunked"])
def test_push_pull_files_with_custom_media_types(
    oras: Any, ours: Server, files: dict[str, bytes], tmp_path: Path, chunked: bool
) -> None:
    repository = f"oras/artifact-{'chunked' if chunked else 'monolithic'}"
    target = f"{ours.host}/{repository}:v1"
    push(
        oras,
        target,
        tmp_path,
        files=[f"model.bin:{DATA_TYPE}", "notes.txt:text/plain", "tree"],
        manifest_config=f"config.json:{CONFIG_TYPE}",
        manifest_annotations={"org.example.purpose": "interop"},
        do_chunked=chunked,
        chunk_size=64 * 1024,
    )

    body, media_type, digest = manifest(ours, repository, "v1")
    document = json.loads(body)
    assert (media_type, digest) == (OCI_MANIFEST, sha256(body))
    assert document["config"]["mediaType"] == CONFIG_TYPE
    assert [layer["mediaType"] for layer in document["layers"][:2]] == [DATA_TYPE, "text/plain"]
    assert document["annotations"] == {"org.example.purpose": "interop"}

    out = tmp_path / "pulled"
    pulled = oras.pull(target=target, outdir=str(out))
    assert sorted(Path(p).name for p in pulled) == ["model.bin", "notes.txt", "tree"]
    for name, data in files.items():
        assert (out / name).read_bytes() == data
    assert (out / "tree" / "sub" / "deep.txt").read_bytes() == b"deep"
    assert (out / "tree" / "top.txt").read_bytes() == b"top"
    assert oras.get_tags(f"{ours.host}/{repository}") == ["v1"]


def test_artifact_type_manifest_and_blob_bytes(oras: Any, ours: Server, tmp_path: Path) -> None:
    """An OCI 1.1 artifact (``artifactType``, empty config) pushed with oras-py's blob and manifest calls."""
    container = oras.get_container(f"{ours.host}/oras/typed:v1")
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"{}")
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(70_000))
    config = {"mediaType": OCI_EMPTY, "digest": sha256(b"{}"), "size": 2}
    layer = {"mediaType": DATA_TYPE, "digest": sha256(payload.read_bytes()), "size": payload.stat().st_size}
    for path, descriptor in ((empty, config), (payload, layer)):
        assert oras.upload_blob(str(path), container, descriptor).status_code in (201, 202)
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SBOM_TYPE,
        "config": config,
        "layers": [layer],
    }
    assert oras.upload_manifest(document, container).status_code == 201

    body, _, digest = manifest(ours, "oras/typed", "v1")
    assert json.loads(body) == document
    assert oras.get_manifest(f"{ours.host}/oras/typed@{digest}") == document
    out = tmp_path / "blob.out"
    oras.download_blob(container, layer["digest"], str(out))
    assert out.read_bytes() == payload.read_bytes()


def test_referrers_list_what_oras_pushed_with_a_subject(
    oras: Any, ours: Server, files: dict[str, bytes], tmp_path: Path
) -> None:
    push(oras, f"{ours.host}/oras/subject:v1", tmp_path, files=[f"notes.txt:{DATA_TYPE}"])
    subject_body, subject_type, subject_digest = manifest(ours, "oras/subject", "v1")
    subject = oras_oci.Subject(mediaType=subject_type, digest=subject_digest, size=len(subject_body))
    assert referrers(ours, "oras/subject", subject_digest)["manifests"] == []

    # oras-py has no artifactType argument: the config media type stands in for it (OCI 1.1 image-spec).
    push(
        oras,
        f"{ours.host}/oras/subject:sbom",
        tmp_path,
        files=[f"model.bin:{DATA_TYPE}"],
        manifest_config=f"config.json:{SBOM_TYPE}",
        manifest_annotations={"org.example.kind": "sbom"},
        subject=subject,
    )
    push(
        oras,
        f"{ours.host}/oras/subject:sig",
        tmp_path,
        files=[f"notes.txt:{DATA_TYPE}"],
        manifest_config=f"config.json:{SIGNATURE_TYPE}",
        subject=subject,
    )
    sbom_body, _, sbom_digest = manifest(ours, "oras/subject", "sbom")
    _, _, sig_digest = manifest(ours, "oras/subject", "sig")
    assert json.loads(sbom_body)["subject"]["digest"] == subject_digest

    listed = {d["digest"]: d for d in referrers(ours, "oras/subject", subject_digest)["manifests"]}
    assert set(listed) == {sbom_digest, sig_digest}
    assert listed[sbom_digest] == {
        "mediaType": OCI_MANIFEST,
        "digest": sbom_digest,
        "size": len(sbom_body),
        "artifactType": SBOM_TYPE,
        "annotations": {"org.example.kind": "sbom"},
    }
    assert listed[sig_digest]["artifactType"] == SIGNATURE_TYPE

    filtered = referrers(ours, "oras/subject", subject_digest, artifact_type=SIGNATURE_TYPE)
    assert [d["digest"] for d in filtered["manifests"]] == [sig_digest]


def test_delete_tag_through_oras(oras: Any, ours: Server, files: dict[str, bytes], tmp_path: Path) -> None:
    push(oras, f"{ours.host}/oras/deleted:v1", tmp_path, files=["notes.txt"])
    push(oras, f"{ours.host}/oras/deleted:v2", tmp_path, files=["model.bin"])
    assert oras.delete_tags(f"{ours.host}/oras/deleted", ["v1"]) == ["v1"]
    assert oras.get_tags(f"{ours.host}/oras/deleted") == ["v2"]
