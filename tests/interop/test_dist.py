"""The ``dist`` command line against real registries (ours and Debian's distribution 2.8.2) and skopeo.

Round trips keep every digest: registry -> OCI layout -> other registry, and through docker archives; skopeo reads
the layouts and archives ``dist`` writes and ``dist`` reads skopeo's. Transfers resume after a TCP proxy cuts the
connection mid-blob. Errors are one line with the registry's code, and no traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.dist import Dist
from testkit.oci_layout import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, OciLayout
from testkit.processes import Server
from testkit.proxy import CuttingProxy
from testkit.skopeo import Skopeo

ACCEPT_ALL = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def dist(tmp_path: Path) -> Dist:
    return Dist(tmp_path / "home")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> OciLayout:
    """``single``: one image of 3 layers; ``multi``: linux/amd64 + linux/arm64; ``docker``: Docker schema 2;
    ``big``: one layer of a few MiB (for cutting connections mid-blob)."""
    built = OciLayout(tmp_path_factory.mktemp("dist-layout") / "src", seed=8)
    built.add_image("single", layers=3)
    built.add_index("multi", layers=2)
    built.add_image("docker", layers=2, docker=True)
    built.add_image("big", layers=1, file_size=3 << 20)
    return built


# Looked up by name at run time, so not the storage-parametrised ``ours``: our filesystem server.
FIXTURE = {"ours": "ours_filesystem", "reference": "reference"}


@pytest.fixture(params=["ours", "reference"])
def server(request: pytest.FixtureRequest) -> Server:
    found: Server = request.getfixturevalue(FIXTURE[request.param])
    return found


def served(server: Server, repository: str, reference: str) -> tuple[bytes, str]:
    with server.client() as client:
        r = client.get(f"/v2/{repository}/manifests/{reference}", headers={"Accept": ACCEPT_ALL})
    assert r.status_code == 200, (r.status_code, r.text)
    return r.content, r.headers["Content-Type"].split(";")[0]


def blob(server: Server, repository: str, digest: str) -> bytes:
    with server.client() as client:
        r = client.get(f"/v2/{repository}/blobs/{digest}", follow_redirects=True)
    assert r.status_code == 200, (digest, r.status_code)
    return r.content


def assert_same_image(a: Server, repo_a: str, b: Server, repo_b: str, reference: str) -> str:
    """Manifests (an index and its children) and blobs byte-identical on both; returns the root digest."""
    content, media_type = served(a, repo_a, reference)
    assert served(b, repo_b, reference) == (content, media_type)
    document = json.loads(content)
    for child in document.get("manifests", []):
        assert_same_image(a, repo_a, b, repo_b, child["digest"])
    for descriptor in [document["config"], *document["layers"]] if "layers" in document else []:
        assert blob(a, repo_a, descriptor["digest"]) == blob(b, repo_b, descriptor["digest"])
    return sha256(content)


def push(layout: OciLayout, server: Server, repository: str, tag: str) -> str:
    with server.client() as client:
        return layout.push(client, repository, tag)


# --- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["single", "multi", "docker"])
@pytest.mark.parametrize("direction", ["ours-to-reference", "reference-to-ours"])
def test_round_trip_through_an_oci_layout_keeps_digests(
    request: pytest.FixtureRequest, dist: Dist, layout: OciLayout, tmp_path: Path, tag: str, direction: str
) -> None:
    first, second = direction.split("-to-")
    a: Server = request.getfixturevalue(FIXTURE[first])
    b: Server = request.getfixturevalue(FIXTURE[second])
    repository = f"dist/layout-{tag}-{first}"
    digest = push(layout, a, repository, tag)

    result = dist.json("copy", "--all", f"{a.host}/{repository}:{tag}", f"oci:{tmp_path / 'out'}:{tag}")
    assert result["digest"] == digest
    dist("copy", "--all", f"oci:{tmp_path / 'out'}:{tag}", f"{b.host}/{repository}:{tag}", "-q")

    assert assert_same_image(a, repository, b, repository, tag) == digest
    entry = json.loads((tmp_path / "out" / "index.json").read_text())["manifests"][0]
    assert (entry["digest"], entry["annotations"]) == (digest, {"org.opencontainers.image.ref.name": tag})


def test_registry_to_registry_between_ours_and_the_reference(
    dist: Dist, layout: OciLayout, ours: Server, reference: Server
) -> None:
    repository = f"dist/direct-{uuid.uuid4().hex[:8]}"  # the reference is shared by both storages of ``ours``
    digest = push(layout, ours, repository, "multi")
    result = dist.json("copy", "--all", f"{ours.host}/{repository}:multi", f"{reference.host}/{repository}")
    assert result["digest"] == digest and result["manifests"] == 3
    assert result["blobs"]["copied"] == 6
    assert assert_same_image(ours, repository, reference, repository, "multi") == digest


def test_platform_selection(dist: Dist, layout: OciLayout, server: Server, tmp_path: Path) -> None:
    push(layout, server, "dist/platforms", "multi")
    index = json.loads(served(server, "dist/platforms", "multi")[0])
    by_arch = {m["platform"]["architecture"]: m["digest"] for m in index["manifests"]}

    arm = dist.json(
        "copy",
        "--platform",
        "linux/arm64",
        f"{server.host}/dist/platforms:multi",
        f"{server.host}/dist/arm:v1",
    )
    assert arm["digest"] == by_arch["arm64"]
    assert sha256(served(server, "dist/arm", "v1")[0]) == by_arch["arm64"]
    default = dist.json("copy", f"{server.host}/dist/platforms:multi", f"oci:{tmp_path / 'host'}:v1")
    assert default["digest"] == by_arch["amd64"]  # this machine's platform, as skopeo and docker pull choose
    assert (
        dist("digest", "--platform", "linux/arm64", f"{server.host}/dist/platforms:multi").stdout.strip()
        == by_arch["arm64"]
    )

    assert "--platform" in dist.fails(
        "copy", "--all", f"{server.host}/dist/platforms:multi", f"docker-archive:{tmp_path / 'a.tar'}"
    )
    unknown = dist.fails(
        "copy", "--platform", "linux/s390x", f"{server.host}/dist/platforms:multi", f"oci:{tmp_path / 'x'}"
    )
    assert "available: linux/amd64, linux/arm64" in unknown


def test_mount_within_one_registry_and_skip_what_is_there(
    dist: Dist, layout: OciLayout, server: Server
) -> None:
    push(layout, server, "dist/mount-src", "single")
    first = dist.json("copy", f"{server.host}/dist/mount-src:single", f"{server.host}/dist/mount-dst:v1")
    assert first["blobs"] == {"copied": 0, "skipped": 0, "mounted": 4}
    again = dist.json("copy", f"{server.host}/dist/mount-src:single", f"{server.host}/dist/mount-dst:v2")
    assert again["blobs"] == {"copied": 0, "skipped": 4, "mounted": 0}
    assert served(server, "dist/mount-dst", "v2") == served(server, "dist/mount-src", "single")


# --- skopeo ----------------------------------------------------------------------------------------


def test_skopeo_reads_the_layouts_we_write(
    dist: Dist, skopeo: Skopeo, layout: OciLayout, ours: Server, tmp_path: Path
) -> None:
    digest = push(layout, ours, "dist/for-skopeo", "multi")
    dist("copy", "--all", f"{ours.host}/dist/for-skopeo:multi", f"oci:{tmp_path / 'ours'}:multi", "-q")

    assert sha256(skopeo.run("inspect", "--raw", f"oci:{tmp_path / 'ours'}:multi").stdout) == digest
    skopeo.copy(f"oci:{tmp_path / 'ours'}:multi", ours.ref("dist/from-skopeo", "v1"), "--all")
    assert sha256(served(ours, "dist/from-skopeo", "v1")[0]) == digest


def test_we_read_skopeos_layouts(
    dist: Dist, skopeo: Skopeo, layout: OciLayout, server: Server, tmp_path: Path
) -> None:
    push(layout, server, "dist/skopeo-src", "multi")
    skopeo.copy(server.ref("dist/skopeo-src", "multi"), f"oci:{tmp_path / 'sk'}:v1", "--all")
    written = json.loads((tmp_path / "sk" / "index.json").read_text())["manifests"][0]["digest"]

    result = dist.json("copy", "--all", f"oci:{tmp_path / 'sk'}:v1", f"{server.host}/dist/skopeo-dst:v1")
    assert result["digest"] == written == sha256(served(server, "dist/skopeo-dst", "v1")[0])


def test_docker_archive_round_trip(
    dist: Dist, skopeo: Skopeo, layout: OciLayout, ours: Server, reference: Server, tmp_path: Path
) -> None:
    digest = push(layout, ours, "dist/archive-src", "single")
    archive = tmp_path / "image.tar"
    dist("copy", f"{ours.host}/dist/archive-src:single", f"docker-archive:{archive}", "-q")
    entry = json.loads(
        subprocess.run(["tar", "-xOf", str(archive), "manifest.json"], capture_output=True, check=True).stdout
    )
    assert entry[0]["RepoTags"] == [f"{ours.host}/dist/archive-src:single"]

    result = dist.json("copy", f"docker-archive:{archive}", f"{reference.host}/dist/archive-dst:v1")
    assert result["digest"] == digest
    assert_same_image(ours, "dist/archive-src", reference, "dist/archive-dst", digest)

    # skopeo reads it as docker does: layers by their uncompressed digests, the config's diff_ids
    inspected = skopeo.inspect(f"docker-archive:{archive}")
    config = json.loads(
        blob(
            ours,
            "dist/archive-src",
            json.loads(served(ours, "dist/archive-src", "single")[0])["config"]["digest"],
        )
    )
    assert inspected["Layers"] == config["rootfs"]["diff_ids"]
    skopeo.copy(f"docker-archive:{archive}", f"oci:{tmp_path / 'via-skopeo'}:v1")


def test_we_read_skopeos_docker_archives(
    dist: Dist, skopeo: Skopeo, layout: OciLayout, server: Server, tmp_path: Path
) -> None:
    archive = tmp_path / "skopeo.tar"
    skopeo.copy(f"oci:{layout.path}:single", f"docker-archive:{archive}:example/app:v7")
    _, content = layout.manifest("single")
    config_digest = json.loads(content)["config"]["digest"]
    diff_ids = json.loads(layout.read_blob(config_digest))["rootfs"]["diff_ids"]

    dist("copy", f"docker-archive:{archive}:example/app:v7", f"{server.host}/dist/from-archive:v1", "-q")
    manifest = json.loads(served(server, "dist/from-archive", "v1")[0])
    assert manifest["mediaType"] == DOCKER_MANIFEST
    assert [layer["digest"] for layer in manifest["layers"]] == diff_ids  # skopeo stored them uncompressed
    assert manifest["config"]["digest"] == config_digest
    assert skopeo.inspect(server.ref("dist/from-archive", "v1"))["Layers"] == diff_ids


# --- resume ----------------------------------------------------------------------------------------


def big_layer_size(layout: OciLayout) -> int:
    _, content = layout.manifest("big")
    size = int(json.loads(content)["layers"][0]["size"])
    assert size > 1 << 20
    return size


@pytest.fixture
def cut() -> Iterator[list[CuttingProxy]]:
    proxies: list[CuttingProxy] = []
    yield proxies
    for proxy in proxies:
        proxy.close()


def test_upload_resumes_after_the_connection_is_cut(
    dist: Dist, layout: OciLayout, server: Server, cut: list[CuttingProxy]
) -> None:
    descriptor, _ = layout.manifest("big")
    proxy = CuttingProxy(server.port, cut_after=big_layer_size(layout) // 2, direction="up")
    cut.append(proxy)
    done = dist("copy", "-v", f"oci:{layout.path}:big", f"{proxy.host}/dist/cut-up:v1")
    assert proxy.cuts == 1
    assert sha256(served(server, "dist/cut-up", "v1")[0]) == descriptor.digest
    for digest in layout.blob_digests(descriptor.digest):
        assert blob(server, "dist/cut-up", digest) == layout.read_blob(digest)
    if server.name == "ours":  # ours keeps what arrived and continues from there
        resumed = re.search(r"continuing at byte (\d+)", done.stderr)
        assert resumed is not None and int(resumed[1]) > 0, done.stderr
    else:  # distribution refuses a session whose signed _state it has moved past: a new session starts
        assert "starting over" in done.stderr


def test_download_resumes_after_the_connection_is_cut(
    dist: Dist, layout: OciLayout, server: Server, cut: list[CuttingProxy], tmp_path: Path
) -> None:
    digest = push(layout, server, "dist/cut-down", "big")
    proxy = CuttingProxy(server.port, cut_after=big_layer_size(layout) // 2, direction="down")
    cut.append(proxy)
    done = dist("copy", "-v", f"{proxy.host}/dist/cut-down:big", f"oci:{tmp_path / 'got'}:big")
    assert proxy.cuts == 1 and "resuming" in done.stderr
    got = OciLayout(tmp_path / "got")
    for blob_digest in got.blob_digests(digest):
        assert sha256(got.read_blob(blob_digest)) == blob_digest


# --- the other commands ----------------------------------------------------------------------------


def test_inspect_ls_catalog_manifest_delete(dist: Dist, layout: OciLayout, server: Server) -> None:
    digest = push(layout, server, "dist/cmds", "multi")
    info = dist.json("inspect", f"{server.host}/dist/cmds:multi")
    assert info["digest"] == digest and [m["platform"] for m in info["manifests"]] == [
        "linux/amd64",
        "linux/arm64",
    ]
    image = dist.json("inspect", "--platform", "linux/arm64", f"{server.host}/dist/cmds:multi")
    assert image["platform"] == "linux/arm64" and len(image["layers"]) == 2
    assert "linux/arm64" in dist("inspect", f"{server.host}/dist/cmds:multi").stdout

    assert (
        dist("manifest", f"{server.host}/dist/cmds:multi").stdout.encode()
        == served(server, "dist/cmds", "multi")[0]
    )
    assert dist("digest", f"{server.host}/dist/cmds:multi").stdout.strip() == digest
    dist("copy", f"{server.host}/dist/cmds:multi", f"{server.host}/dist/cmds:second", "--all", "-q")
    assert sorted(dist.json("ls", f"{server.host}/dist/cmds")) == ["multi", "second"]
    assert "dist/cmds" in dist.json("catalog", server.host)

    assert dist("delete", f"{server.host}/dist/cmds:multi").stdout.strip().endswith(digest)
    assert "MANIFEST_UNKNOWN" in dist.fails("inspect", f"{server.host}/dist/cmds:second")


def test_blob_put_and_get(dist: Dist, server: Server, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    (tmp_path / "in.bin").write_bytes(data)
    digest = dist("blob", "put", f"{server.host}/dist/blobs", str(tmp_path / "in.bin")).stdout.strip()
    assert digest == sha256(data)
    dist("blob", "get", f"{server.host}/dist/blobs@{digest}", "-o", str(tmp_path / "out.bin"))
    assert (tmp_path / "out.bin").read_bytes() == data
    to_stdout = subprocess.run(
        [sys.executable, "-m", "registry_toolkit.dist", "blob", "get", f"{server.host}/dist/blobs@{digest}", "-q"],
        capture_output=True, check=True,
    )  # fmt: skip
    assert to_stdout.stdout == data


def test_errors_are_one_line_with_the_registry_code(dist: Dist, server: Server, tmp_path: Path) -> None:
    # MANIFEST_UNKNOWN or NAME_UNKNOWN, as each registry says, with its message and the request
    missing = dist.fails("inspect", f"{server.host}/dist/nothing-here:v1")
    assert (
        "_UNKNOWN: " in missing and f"GET http://{server.host}/v2/dist/nothing-here/manifests/v1" in missing
    )
    assert "no such OCI layout" in dist.fails(
        "copy", "oci:/nonexistent/layout:v1", f"{server.host}/dist/x:v1"
    )
    assert "invalid tag" in dist.fails("inspect", f"{server.host}/dist/x:-bad")
    assert dist("copy", "only-one-argument", check=False).returncode == 2


def test_unreachable_registry(dist: Dist) -> None:
    assert "127.0.0.1:9" in dist.fails("ls", "127.0.0.1:9/dist/x")


def test_login_and_logout_write_the_docker_config(dist: Dist, ours: Server) -> None:
    assert (
        "Login Succeeded"
        in dist("login", ours.host, "-u", "alice", "--password-stdin", stdin="s3cret\n").stdout
    )
    config = json.loads((dist.home / ".docker" / "config.json").read_text())
    assert config["auths"][ours.host] == {"auth": "YWxpY2U6czNjcmV0"}
    assert "Removed" in dist("logout", ours.host).stdout
    assert json.loads((dist.home / ".docker" / "config.json").read_text())["auths"] == {}
