"""``dist copy`` between two registries relays big blobs socket to socket (``registry_toolkit.dist.relay``): the
bytes arrive whole in both directions between ours and distribution 2.8.2, under Bearer tokens too; a source that
serves other bytes than its digest fails the copy at the destination's verification and nothing is tagged; a relay
cut mid-blob resumes through the client from what the destination holds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_toolkit.dist.relay import MIN_SIZE
from testkit.dist import Dist
from testkit.oci_layout import OciLayout
from testkit.processes import Server, Spawner
from testkit.proxy import CuttingProxy
from testkit.token_server import ISSUER, realm, signing_certificate, start_token_server, token_server_command

ACCEPT = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> OciLayout:
    """``big``: a layer just over the relay's threshold and a small one (which goes the client's way)."""
    built = OciLayout(tmp_path_factory.mktemp("dist-relay-layout") / "src", seed=19)
    built.add_image("big", layers=1, file_size=MIN_SIZE + (1 << 20))
    return built


SOURCE = "relay/src"


@pytest.fixture(scope="module")
def pushed(
    layout: OciLayout, ours_filesystem: Server, reference: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The image at ``SOURCE:v1`` in both registries (pushed from the layout, not relayed)."""
    pusher = Dist(tmp_path_factory.mktemp("relay-push"))
    for server in (ours_filesystem, reference):
        pusher("copy", "-q", f"oci:{layout.path}:big", f"{server.host}/{SOURCE}:v1")


@pytest.fixture
def dist(tmp_path: Path) -> Dist:
    return Dist(tmp_path / "home")


@pytest.fixture
def cut() -> Iterator[list[CuttingProxy]]:
    proxies: list[CuttingProxy] = []
    yield proxies
    for proxy in proxies:
        proxy.close()


def big_layer(layout: OciLayout) -> tuple[str, int]:
    _, content = layout.manifest("big")
    layer = json.loads(content)["layers"][0]
    assert layer["size"] >= MIN_SIZE
    return layer["digest"], layer["size"]


def holds(server: Server, repository: str, digest: str) -> bool:
    with server.client() as client:
        r = client.get(f"/v2/{repository}/blobs/{digest}", follow_redirects=True)
    return r.status_code == 200 and "sha256:" + hashlib.sha256(r.content).hexdigest() == digest


def tagged(server: Server, repository: str, tag: str) -> int:
    with server.client() as client:
        return client.get(f"/v2/{repository}/manifests/{tag}", headers={"Accept": ACCEPT}).status_code


@pytest.mark.parametrize(
    ("direction", "splice"),
    [("ours-to-reference", "1"), ("reference-to-ours", "1"), ("ours-to-reference", "0")],
    ids=["ours-to-reference", "reference-to-ours", "through-a-buffer"],
)
def test_big_layers_are_relayed_and_arrive_whole(
    tmp_path: Path,
    layout: OciLayout,
    pushed: None,
    ours_filesystem: Server,
    reference: Server,
    direction: str,
    splice: str,
) -> None:
    dist = Dist(tmp_path / "home", env={"DIST_SPLICE": splice})  # 0: recv_into/sendall instead of splice
    source, destination = (
        (ours_filesystem, reference) if direction == "ours-to-reference" else (reference, ours_filesystem)
    )
    repository = f"relay/{direction}-{splice}"
    done = dist("copy", "-v", f"{source.host}/{SOURCE}:v1", f"{destination.host}/{repository}:v1")
    digest, _ = big_layer(layout)
    assert f"{digest}: relayed" in done.stderr, done.stderr
    assert tagged(destination, repository, "v1") == 200
    for blob in layout.blob_digests(layout.refs()["big"].digest):
        assert holds(destination, repository, blob)


@pytest.mark.parametrize("blob", ["layer", "config"])
def test_a_source_serving_other_bytes_fails_at_the_destination(
    dist: Dist, layout: OciLayout, pushed: None, ours_filesystem: Server, reference: Server, blob: str
) -> None:
    """dist does not hash what it copies between registries (the big layer relayed, the small config through the
    client): the destination verifies the digest when the session closes, as it must."""
    repository = f"relay/tampered-{blob}"
    if blob == "layer":
        digest, size = big_layer(layout)
    else:
        config = json.loads(layout.manifest("big")[1])["config"]
        digest, size = config["digest"], config["size"]
    algorithm, hexa = digest.split(":")
    data = ours_filesystem.root / "docker/registry/v2/blobs" / algorithm / hexa[:2] / hexa / "data"
    original = data.read_bytes()
    try:
        with data.open("r+b") as f:  # same size, other bytes: served as they are
            f.seek(size // 2)
            f.write(bytes(min(64, size - size // 2)))
        error = dist.fails("copy", f"{ours_filesystem.host}/{SOURCE}:v1", f"{reference.host}/{repository}:v1")
    finally:
        data.write_bytes(original)
    assert "DIGEST_INVALID" in error
    assert tagged(reference, repository, "v1") == 404
    assert not holds(reference, repository, digest)


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_a_relay_cut_midway_resumes_through_the_client(
    dist: Dist,
    layout: OciLayout,
    pushed: None,
    ours_filesystem: Server,
    reference: Server,
    cut: list[CuttingProxy],
    kind: str,
) -> None:
    destination = ours_filesystem if kind == "ours" else reference
    source = reference if kind == "ours" else ours_filesystem
    repository = f"relay/cut-{kind}"
    digest, size = big_layer(layout)
    proxy = CuttingProxy(destination.port, cut_after=size // 2, direction="up")
    cut.append(proxy)
    done = dist("copy", "-v", f"{source.host}/{SOURCE}:v1", f"{proxy.host}/{repository}:v1")
    assert proxy.cuts == 1
    assert "resuming through the client" in done.stderr, done.stderr
    assert tagged(destination, repository, "v1") == 200
    assert holds(destination, repository, digest)


def test_relay_carries_the_clients_bearer_tokens(
    spawn: Spawner, dist: Dist, layout: OciLayout, tmp_path: Path
) -> None:
    if token_server_command() is None:
        pytest.fail("the `registry-token-server` console script is not installed (pip install -e .)")
    users, service = {"alice": "alice-pw"}, "relay-registry"
    acl = [{"account": "alice", "repository": "**", "actions": ["*"]}]
    tokens = start_token_server(tmp_path / "token-server", users=users, acl=acl, service=service)
    spawn.servers.append(tokens)
    auth = {
        "auth": {
            "token": {
                "realm": realm(tokens),
                "service": service,
                "issuer": ISSUER,
                "rootcertbundle": str(signing_certificate(tokens)),
            }
        }
    }
    source, destination = spawn.ours("source", auth), spawn.reference("destination", auth)
    for server in (source, destination):
        dist("login", server.host, "-u", "alice", "--password-stdin", stdin="alice-pw\n")
    dist("copy", "-q", f"oci:{layout.path}:big", f"{source.host}/relay/guarded:v1")
    done = dist("copy", "-v", f"{source.host}/relay/guarded:v1", f"{destination.host}/relay/guarded:v1")
    digest, _ = big_layer(layout)
    assert f"{digest}: relayed" in done.stderr, done.stderr
    assert "resuming" not in done.stderr
