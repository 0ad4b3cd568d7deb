"""One data directory, two registries: what distribution 2.8.2 wrote, we serve, and what we wrote, it serves.

Each test fills a root with one server (skopeo pushes v2s2, OCI, an OCI index, a Docker manifest list; a
Docker-form layout pushed over plain HTTP), stops it, starts the other on the same root and compares catalog,
tags, manifest bytes and digests, and blob bytes, then pulls everything back with skopeo. That only works if
the on-disk layout is distribution's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from testkit.oci_layout import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, OciLayout
from testkit.processes import Server, Spawner
from testkit.skopeo import Skopeo

# The reference answers MANIFEST_UNKNOWN for an OCI manifest or index unless Accept lists its type.
ACCEPT_ALL = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])


@dataclass(frozen=True)
class Pushed:
    repository: str
    tag: str
    layers: tuple[str, ...]


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> tuple[OciLayout, OciLayout]:
    """An OCI layout (``single``, ``multi``) and a Docker-form one (``single``, ``list``)."""
    base = tmp_path_factory.mktemp("datadir-layouts")
    oci = OciLayout(base / "oci", seed=7)
    oci.add_image("single", layers=3)
    oci.add_index("multi", layers=2)
    docker = OciLayout(base / "docker", seed=8)
    docker.add_image("single", layers=2, docker=True)
    docker.add_index("list", layers=1, docker=True)
    return oci, docker


def fill(server: Server, skopeo: Skopeo, layouts: tuple[OciLayout, OciLayout]) -> list[Pushed]:
    """Push the same set of images into ``server``; returns what was pushed where."""
    oci, docker = layouts
    pushed = []
    for repository, tag, source, options in [
        ("data/v2s2", "v1", "single", ["--format", "v2s2"]),
        ("data/oci", "v1", "single", ["--format", "oci"]),
        ("data/oci", "v2", "multi", ["--all"]),
        ("data/list", "m", "multi", ["--all", "--format", "v2s2"]),
    ]:
        skopeo.copy(f"oci:{oci.path}:{source}", server.ref(repository, tag), *options)
        pushed.append(Pushed(repository, tag, tuple(oci.layer_digests(oci.refs()[source].digest))))
    with server.client() as client:
        for tag in ("single", "list"):
            digest = docker.push(client, "data/docker-form", tag)
            pushed.append(Pushed("data/docker-form", tag, tuple(docker.layer_digests(digest))))
    return pushed


@dataclass(frozen=True)
class Snapshot:
    catalog: list[str]
    tags: dict[str, list[str]]
    manifests: dict[tuple[str, str], tuple[bytes, str, str]]


def snapshot(server: Server, pushed: list[Pushed]) -> Snapshot:
    """Catalog, sorted tag lists and every manifest (bytes, Content-Type, digest) by tag and by digest."""
    manifests: dict[tuple[str, str], tuple[bytes, str, str]] = {}
    with server.client() as client:
        r = client.get("/v2/_catalog")
        assert r.status_code == 200, r.text
        catalog = sorted(r.json()["repositories"])
        tags = {}
        for repository in sorted({p.repository for p in pushed}):
            r = client.get(f"/v2/{repository}/tags/list")
            assert r.status_code == 200, r.text
            tags[repository] = sorted(r.json()["tags"])
        for p in pushed:
            for reference in _references(client, p):
                r = client.get(f"/v2/{p.repository}/manifests/{reference}", headers={"Accept": ACCEPT_ALL})
                assert r.status_code == 200, (server.name, p, reference, r.status_code, r.text)
                content_type = r.headers["Content-Type"].split(";")[0]
                manifests[p.repository, reference] = (
                    r.content,
                    content_type,
                    r.headers["Docker-Content-Digest"],
                )
    return Snapshot(catalog, tags, manifests)


def _references(client: httpx.Client, pushed: Pushed) -> list[str]:
    """The tag, then the digests of the manifest and (for an index) of its children."""
    r = client.get(f"/v2/{pushed.repository}/manifests/{pushed.tag}", headers={"Accept": ACCEPT_ALL})
    assert r.status_code == 200, (pushed, r.status_code, r.text)
    children = [m["digest"] for m in json.loads(r.content).get("manifests", [])]
    return [pushed.tag, r.headers["Docker-Content-Digest"], *children]


def assert_layers_served(server: Server, pushed: list[Pushed], layouts: tuple[OciLayout, OciLayout]) -> None:
    sources = {d: layout for layout in layouts for d in _all_blobs(layout)}
    with server.client() as client:
        for p in pushed:
            for digest in p.layers:
                r = client.get(f"/v2/{p.repository}/blobs/{digest}", follow_redirects=True)
                assert r.status_code == 200, (server.name, p.repository, digest, r.status_code)
                assert r.content == sources[digest].read_blob(digest)
                assert r.headers["Docker-Content-Digest"] == digest


def _all_blobs(layout: OciLayout) -> list[str]:
    return ["sha256:" + p.name for p in (layout.path / "blobs" / "sha256").iterdir()]


def pull_all(server: Server, skopeo: Skopeo, pushed: list[Pushed], dest: Path) -> None:
    """skopeo pulls every image back (``--all``); each layer arrives with the bytes that were pushed."""
    dest.mkdir()
    for i, p in enumerate(pushed):
        back = OciLayout(dest / f"{i}")
        skopeo.copy(server.ref(p.repository, p.tag), f"oci:{back.path}:{p.tag}", "--all")
        descriptor = back.refs()[p.tag]
        assert tuple(back.layer_digests(descriptor.digest)) == p.layers


@pytest.mark.parametrize("writer", ["reference", "ours"])
def test_a_data_directory_is_served_by_the_other_registry(
    spawn: Spawner, skopeo: Skopeo, layouts: tuple[OciLayout, OciLayout], tmp_path: Path, writer: str
) -> None:
    root = tmp_path / "shared-root"
    start_writer, start_reader = (
        (spawn.reference, spawn.ours) if writer == "reference" else (spawn.ours, spawn.reference)
    )
    first = start_writer("writer", root=root)
    pushed = fill(first, skopeo, layouts)
    written = snapshot(first, pushed)
    first.stop()

    second = start_reader("reader", root=root)
    read = snapshot(second, pushed)
    assert read.catalog == written.catalog == sorted({p.repository for p in pushed})
    assert read.tags == written.tags
    assert read.manifests.keys() == written.manifests.keys()
    for key, (content, content_type, digest) in written.manifests.items():
        assert read.manifests[key] == (content, content_type, digest), key
    assert_layers_served(second, pushed, layouts)
    pull_all(second, skopeo, pushed, tmp_path / "pulled")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under the registry root except upload sessions: relative path → content."""
    base = root / "docker" / "registry" / "v2"
    return {
        str(path.relative_to(base)): path.read_bytes()
        for path in sorted(base.rglob("*"))
        if path.is_file() and "_uploads" not in path.relative_to(base).parts
    }


def test_the_same_pushes_write_the_same_files(
    spawn: Spawner, skopeo: Skopeo, layouts: tuple[OciLayout, OciLayout], tmp_path: Path
) -> None:
    """File for file, link for link: our layout on disk is distribution's."""
    written = {}
    for start in (spawn.reference, spawn.ours):
        server = start(root=tmp_path / f"root-{start.__name__}")
        fill(server, skopeo, layouts)
        server.stop()
        written[start.__name__] = tree(server.root)
    ours, reference = written["ours"], written["reference"]
    assert "repositories/data/oci/_manifests/tags/v1/current/link" in reference
    assert sorted(set(ours) - set(reference)) == []
    assert sorted(set(reference) - set(ours)) == []
    assert [path for path in ours if ours[path] != reference[path]] == []
