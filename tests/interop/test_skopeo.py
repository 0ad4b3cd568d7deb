"""skopeo (Debian, containers/image) against our server: copies in v2s2 and OCI, indexes, inspect, tags, delete."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from testkit.oci_layout import (
    DOCKER_LAYER_GZIP,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    OciLayout,
)
from testkit.processes import Server
from testkit.skopeo import Skopeo

ACCEPT_ALL = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> OciLayout:
    """``single``: one linux/amd64 image of 3 layers; ``multi``: a linux/amd64 + linux/arm64 index."""
    built = OciLayout(tmp_path_factory.mktemp("layout") / "src", seed=20240101)
    built.add_image("single", layers=3)
    built.add_index("multi", layers=2)
    return built


def served(server: Server, repository: str, reference: str) -> tuple[bytes, str, str]:
    """(bytes, Content-Type, Docker-Content-Digest) of a manifest, accepting every manifest type."""
    with server.client() as client:
        r = client.get(f"/v2/{repository}/manifests/{reference}", headers={"Accept": ACCEPT_ALL})
    assert r.status_code == 200, (r.status_code, r.text)
    return r.content, r.headers["Content-Type"], r.headers["Docker-Content-Digest"]


def assert_blobs_served(server: Server, repository: str, layout: OciLayout, digests: list[str]) -> None:
    with server.client() as client:
        for digest in digests:
            r = client.get(f"/v2/{repository}/blobs/{digest}", follow_redirects=True)
            assert r.status_code == 200, (digest, r.status_code)
            assert r.content == layout.read_blob(digest), digest


def test_copy_as_oci_keeps_the_manifest_bytes(ours: Server, skopeo: Skopeo, layout: OciLayout) -> None:
    descriptor, content = layout.manifest("single")
    skopeo.copy(f"oci:{layout.path}:single", ours.ref("skopeo/oci", "v1"), "--format", "oci")

    body, media_type, digest = served(ours, "skopeo/oci", "v1")
    assert (body, media_type, digest) == (content, OCI_MANIFEST, descriptor.digest)
    assert_blobs_served(ours, "skopeo/oci", layout, layout.blob_digests(descriptor.digest))


def test_copy_as_docker_v2s2_converts_media_types_not_layers(
    ours: Server, skopeo: Skopeo, layout: OciLayout
) -> None:
    descriptor, _ = layout.manifest("single")
    skopeo.copy(f"oci:{layout.path}:single", ours.ref("skopeo/v2s2", "v1"), "--format", "v2s2")

    body, media_type, digest = served(ours, "skopeo/v2s2", "v1")
    manifest = json.loads(body)
    assert media_type == manifest["mediaType"] == DOCKER_MANIFEST
    assert digest == sha256(body)
    assert [layer["mediaType"] for layer in manifest["layers"]] == [DOCKER_LAYER_GZIP] * 3
    assert [layer["digest"] for layer in manifest["layers"]] == layout.layer_digests(descriptor.digest)
    assert_blobs_served(ours, "skopeo/v2s2", layout, [manifest["config"]["digest"]])

    inspected = skopeo.inspect(ours.ref("skopeo/v2s2", "v1"))
    assert inspected["Digest"] == digest
    assert inspected["Layers"] == layout.layer_digests(descriptor.digest)
    assert (inspected["Os"], inspected["Architecture"]) == ("linux", "amd64")


def test_copy_all_pushes_the_index_and_every_platform(
    ours: Server, skopeo: Skopeo, layout: OciLayout
) -> None:
    descriptor, content = layout.manifest("multi")
    skopeo.copy(f"oci:{layout.path}:multi", ours.ref("skopeo/multi", "m"), "--all")

    assert served(ours, "skopeo/multi", "m") == (content, OCI_INDEX, descriptor.digest)
    for child in json.loads(content)["manifests"]:
        body, media_type, digest = served(ours, "skopeo/multi", child["digest"])
        assert (body, media_type, digest) == (
            layout.read_blob(child["digest"]),
            OCI_MANIFEST,
            child["digest"],
        )
    assert_blobs_served(ours, "skopeo/multi", layout, layout.blob_digests(descriptor.digest))
    assert skopeo.inspect_raw(ours.ref("skopeo/multi", "m")) == content


def test_copy_all_as_v2s2_makes_a_manifest_list(ours: Server, skopeo: Skopeo, layout: OciLayout) -> None:
    descriptor, _ = layout.manifest("multi")
    skopeo.copy(f"oci:{layout.path}:multi", ours.ref("skopeo/list", "m"), "--all", "--format", "v2s2")

    body, media_type, _ = served(ours, "skopeo/list", "m")
    manifest_list = json.loads(body)
    assert media_type == manifest_list["mediaType"] == DOCKER_LIST
    layers: list[str] = []
    for child in manifest_list["manifests"]:
        child_body, child_type, child_digest = served(ours, "skopeo/list", child["digest"])
        assert (
            (child_type, child_digest)
            == (DOCKER_MANIFEST, sha256(child_body))
            == (child["mediaType"], child["digest"])
        )
        layers += [layer["digest"] for layer in json.loads(child_body)["layers"]]
    assert layers == layout.layer_digests(descriptor.digest)
    platforms = [(c["platform"]["os"], c["platform"]["architecture"]) for c in manifest_list["manifests"]]
    assert platforms == [("linux", "amd64"), ("linux", "arm64")]


def test_copy_a_large_layer_both_ways(ours: Server, skopeo: Skopeo, tmp_path: Path) -> None:
    """Megabytes of incompressible layer streams through one upload and back out unchanged."""
    big = OciLayout(tmp_path / "big", seed=99)
    image = big.add_image("big", layers=1, file_size=8 * 1024 * 1024)
    assert image.layers[0].size > 4 * 1024 * 1024
    skopeo.copy(f"oci:{big.path}:big", ours.ref("skopeo/big", "v1"), "--format", "oci")

    back = OciLayout(tmp_path / "back")
    skopeo.copy(ours.ref("skopeo/big", "v1"), f"oci:{back.path}:big")
    assert back.manifest("big")[0].digest == image.digest
    assert back.read_blob(image.layers[0].digest) == big.read_blob(image.layers[0].digest)


@pytest.mark.parametrize("repository", ["skopeo/raw-oci", "skopeo/raw-v2s2", "skopeo/raw-index"])
def test_inspect_raw_is_byte_equal_to_what_we_serve(
    ours: Server, skopeo: Skopeo, layout: OciLayout, repository: str
) -> None:
    source, options = {
        "skopeo/raw-oci": ("single", ["--format", "oci"]),
        "skopeo/raw-v2s2": ("single", ["--format", "v2s2"]),
        "skopeo/raw-index": ("multi", ["--all"]),
    }[repository]
    skopeo.copy(f"oci:{layout.path}:{source}", ours.ref(repository, "t"), *options)

    raw = skopeo.inspect_raw(ours.ref(repository, "t"))
    body, _, digest = served(ours, repository, "t")
    assert raw == body
    assert skopeo.inspect_raw(ours.ref(repository, digest)) == body


def test_list_tags(ours: Server, skopeo: Skopeo, layout: OciLayout) -> None:
    tags = ["v1", "v1.0", "latest", "2024-01-01", "a_b"]
    for tag in tags:
        skopeo.copy(f"oci:{layout.path}:single", ours.ref("skopeo/tags", tag), "--format", "oci")
    listed = skopeo.list_tags(f"docker://{ours.host}/skopeo/tags")
    assert sorted(listed) == sorted(tags)


def test_delete_removes_the_manifest_and_its_tag(ours: Server, skopeo: Skopeo, layout: OciLayout) -> None:
    skopeo.copy(f"oci:{layout.path}:single", ours.ref("skopeo/delete", "gone"), "--format", "v2s2")
    skopeo.copy(f"oci:{layout.path}:multi", ours.ref("skopeo/delete", "kept"), "--all")
    _, _, digest = served(ours, "skopeo/delete", "gone")

    skopeo.delete(ours.ref("skopeo/delete", "gone"))

    with ours.client() as client:
        for reference in ("gone", digest):
            r = client.get(f"/v2/skopeo/delete/manifests/{reference}", headers={"Accept": ACCEPT_ALL})
            assert r.status_code == 404, (reference, r.status_code)
            assert r.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert skopeo.list_tags(f"docker://{ours.host}/skopeo/delete") == ["kept"]


@pytest.mark.parametrize("fmt", ["v2s2", "oci"])
def test_copy_back_to_a_layout_keeps_every_layer_byte(
    ours: Server, skopeo: Skopeo, layout: OciLayout, tmp_path: Path, fmt: str
) -> None:
    descriptor, _ = layout.manifest("single")
    skopeo.copy(f"oci:{layout.path}:single", ours.ref(f"skopeo/back-{fmt}", "v1"), "--format", fmt)

    back = OciLayout(tmp_path / "back")
    skopeo.copy(ours.ref(f"skopeo/back-{fmt}", "v1"), f"oci:{back.path}:copied")

    copied, _ = back.manifest("copied")
    assert back.layer_digests(copied.digest) == layout.layer_digests(descriptor.digest)
    for digest in back.layer_digests(copied.digest):
        assert back.read_blob(digest) == layout.read_blob(digest), digest
    if fmt == "oci":  # nothing converted: the manifest and config come back as they left
        assert copied.digest == descriptor.digest
        assert back.blob_digests(copied.digest) == layout.blob_digests(descriptor.digest)


def test_copy_back_an_index_with_all(ours: Server, skopeo: Skopeo, layout: OciLayout, tmp_path: Path) -> None:
    descriptor, content = layout.manifest("multi")
    skopeo.copy(f"oci:{layout.path}:multi", ours.ref("skopeo/back-index", "m"), "--all")

    back = OciLayout(tmp_path / "back")
    skopeo.copy(ours.ref("skopeo/back-index", "m"), f"oci:{back.path}:m", "--all")

    copied, copied_content = back.manifest("m")
    assert (copied.digest, copied.media_type, copied_content) == (descriptor.digest, OCI_INDEX, content)
    for digest in layout.blob_digests(descriptor.digest):
        assert back.read_blob(digest) == layout.read_blob(digest), digest


@pytest.mark.parametrize("direction", ["ours-to-reference", "reference-to-ours"])
@pytest.mark.parametrize("source", ["single", "multi"])
def test_copy_between_ours_and_the_reference(
    ours: Server, reference: Server, skopeo: Skopeo, layout: OciLayout, direction: str, source: str
) -> None:
    first, second = (ours, reference) if direction == "ours-to-reference" else (reference, ours)
    repository = f"between/{direction}/{source}"
    options = ["--all"] if source == "multi" else ["--format", "v2s2"]
    skopeo.copy(f"oci:{layout.path}:{source}", first.ref(repository, "t"), *options)

    skopeo.copy(first.ref(repository, "t"), second.ref(repository, "t"), "--all")

    body_first, type_first, digest_first = served(first, repository, "t")
    assert served(second, repository, "t") == (body_first, type_first, digest_first)
    assert skopeo.inspect_raw(second.ref(repository, digest_first)) == body_first
    descriptor, _ = layout.manifest(source)
    assert_blobs_served(second, repository, layout, layout.layer_digests(descriptor.digest))
