"""dist's local stores and copy engine without a registry: locations, OCI layouts, docker archives (ours, skopeo's
shape, gzip-compressed), platform selection, and what a failed copy leaves behind."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from registry_toolkit.dist.archive import ArchiveStore
from registry_toolkit.dist.copy import Selection, copy_image, select
from registry_toolkit.dist.layout import LayoutStore
from registry_toolkit.dist.progress import Progress
from registry_toolkit.dist.stores import Location, StoreError, parse_location
from testkit.oci_layout import OciLayout

from registry_client import Descriptor, Platform


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def source(tmp_path: Path) -> OciLayout:
    built = OciLayout(tmp_path / "src", seed=5)
    built.add_image("single", layers=3)
    built.add_index("multi", layers=2)
    return built


def test_parse_location() -> None:
    assert parse_location("oci:/a/b:v1") == Location("oci", path=Path("/a/b"), tag="v1")
    assert parse_location("oci:dir") == Location("oci", path=Path("dir"))
    assert parse_location("docker-archive:x.tar:repo/app:v2") == Location(
        "docker-archive", path=Path("x.tar"), tag="repo/app:v2"
    )
    registry = parse_location("docker://127.0.0.1:5000/a/b@sha256:" + "0" * 64)
    assert (
        registry.kind == "registry"
        and registry.reference is not None
        and registry.reference.host == "127.0.0.1:5000"
    )
    with pytest.raises(StoreError):
        parse_location("oci:")


def test_layout_to_layout_keeps_bytes_and_tags(source: OciLayout, tmp_path: Path) -> None:
    result = copy_image(
        LayoutStore(source.path, "multi"), LayoutStore(tmp_path / "out", "m"), Selection(all_platforms=True)
    )
    out = OciLayout(tmp_path / "out")
    assert out.refs()["m"].digest == source.refs()["multi"].digest == result.digest
    for digest in source.blob_digests(result.digest):
        assert out.read_blob(digest) == source.read_blob(digest)
    assert result.blobs["copied"] == 6 and result.manifests == 3

    again = copy_image(LayoutStore(source.path, "single"), LayoutStore(tmp_path / "out", "s"), Selection())
    assert set(out.refs()) == {"m", "s"} and again.blobs["copied"] == 4
    third = copy_image(LayoutStore(source.path, "single"), LayoutStore(tmp_path / "out", "s"), Selection())
    assert third.blobs == {"copied": 0, "skipped": 4, "mounted": 0}


def test_platform_selection(source: OciLayout) -> None:
    store = LayoutStore(source.path, "multi")
    root = store.root()
    arm = select(store, root, Selection(platform=Platform.parse("linux/arm64")))
    assert [m.digest for m in arm] == [root.manifests[1].digest]
    everything = select(store, root, Selection(all_platforms=True))
    assert [m.digest for m in everything] == [*(d.digest for d in root.manifests), root.digest]
    with pytest.raises(StoreError, match="available: linux/amd64, linux/arm64"):
        select(store, root, Selection(platform=Platform("linux", "riscv64")))
    with pytest.raises(StoreError, match="--platform"):
        select(store, root, Selection(all_platforms=True), holds_indexes=False)


def test_layout_errors(source: OciLayout, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no image tagged 'nope'.*multi, single"):
        LayoutStore(source.path, "nope").root()
    with pytest.raises(StoreError, match="2 images"):
        LayoutStore(source.path).root()
    with pytest.raises(StoreError, match="no such OCI layout"):
        LayoutStore(tmp_path / "absent", "x").root()


def test_archive_round_trip_keeps_the_manifest(source: OciLayout, tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    copy_image(LayoutStore(source.path, "single"), ArchiveStore(archive, "example/app:v1"), Selection())
    with tarfile.open(archive) as tar:
        entry = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        names = set(tar.getnames())
    assert entry[0]["RepoTags"] == ["example/app:v1"]
    assert {"oci-layout", "index.json", "manifest.json"} <= names
    assert not list(tmp_path.glob(".dist-*")), "the staging directory is removed"

    back = copy_image(ArchiveStore(archive), LayoutStore(tmp_path / "back", "v1"), Selection())
    assert back.digest == source.refs()["single"].digest
    assert ArchiveStore(archive).name() == "example/app:v1"


def test_a_gzip_compressed_archive_is_read_too(source: OciLayout, tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    copy_image(LayoutStore(source.path, "single"), ArchiveStore(archive), Selection())
    (tmp_path / "img.tar.gz").write_bytes(gzip.compress(archive.read_bytes()))
    store = ArchiveStore(tmp_path / "img.tar.gz")
    back = copy_image(store, LayoutStore(tmp_path / "back", "v1"), Selection())
    assert back.digest == source.refs()["single"].digest
    store.abort()
    assert not list(tmp_path.glob(".dist-unpacked-*"))


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_legacy_docker_save_archives_get_a_schema2_manifest(source: OciLayout, tmp_path: Path) -> None:
    """docker save's classic shape: <id>/layer.tar (symlinked here, as skopeo writes), uncompressed layers,
    no OCI layout; two images, picked by name."""
    _, content = source.manifest("single")
    manifest = json.loads(content)
    layers = [gzip.decompress(source.read_blob(layer["digest"])) for layer in manifest["layers"]]
    config = source.read_blob(manifest["config"]["digest"])
    archive = tmp_path / "legacy.tar"
    with tarfile.open(archive, "w") as tar:
        for i, layer in enumerate(layers):
            _add(tar, f"{sha256(layer)[7:]}.tar", layer)
            link = tarfile.TarInfo(f"layer{i}/layer.tar")
            link.type, link.linkname = tarfile.SYMTYPE, f"../{sha256(layer)[7:]}.tar"
            tar.addfile(link)
        _add(tar, "config.json", config)
        entries = [
            {"Config": "config.json", "RepoTags": ["other:1"], "Layers": ["layer0/layer.tar"]},
            {"Config": "config.json", "RepoTags": ["docker.io/library/app:v1"],
             "Layers": [f"layer{i}/layer.tar" for i in range(len(layers))]},
        ]  # fmt: skip
        _add(tar, "manifest.json", json.dumps(entries).encode())

    with pytest.raises(StoreError, match="2 images"):
        ArchiveStore(archive).root()
    store = ArchiveStore(archive, "app:v1")
    root = store.root()
    assert root.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert [d.digest for d in root.layers] == json.loads(config)["rootfs"]["diff_ids"]
    assert {d.media_type for d in root.layers} == {"application/vnd.docker.image.rootfs.diff.tar"}
    copy_image(store, LayoutStore(tmp_path / "out", "v1"), Selection())
    out = OciLayout(tmp_path / "out")
    assert [out.read_blob(d.digest) for d in root.layers] == layers


def test_a_failed_copy_tags_nothing_and_cancels_the_rest(source: OciLayout, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(source.path, broken)
    _, content = source.manifest("single")
    victim = json.loads(content)["layers"][1]["digest"]
    (broken / "blobs" / "sha256" / victim[7:]).write_bytes(b"tampered")

    with pytest.raises(Exception, match="digest mismatch"):
        copy_image(
            LayoutStore(broken, "single"),
            LayoutStore(tmp_path / "out", "v1"),
            Selection(),
            progress=Progress(quiet=True),
        )
    assert not (tmp_path / "out" / "index.json").exists()
    assert not (tmp_path / "out" / "blobs" / "sha256" / victim[7:]).exists()


def test_descriptors_skip_non_distributable_layers() -> None:
    foreign = Descriptor(
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "sha256:" + "1" * 64,
        1,
        urls=("https://x",),
    )
    assert not foreign.distributable
    assert Descriptor("application/vnd.oci.image.layer.v1.tar", "sha256:" + "2" * 64, 1).distributable
