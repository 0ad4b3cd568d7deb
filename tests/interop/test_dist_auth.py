"""``dist`` with authentication: Bearer tokens from registry-token-server (scopes, push, mount, catalog, delete) and
htpasswd Basic, against ours and distribution 2.8.2; credentials come from ``dist login`` (the Docker config)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testkit.dist import Dist
from testkit.oci_layout import OciLayout
from testkit.processes import Server, Spawner
from testkit.token_server import (
    ISSUER,
    realm,
    signing_certificate,
    start_token_server,
    token_server_command,
    write_htpasswd,
)

USERS = {"alice": "alice-pw", "bob": "bob-pw"}
ACL = [
    {"account": "alice", "repository": "**", "actions": ["*"]},
    {"account": "alice", "type": "registry", "repository": "catalog", "actions": ["*"]},
    {"account": "bob", "repository": "**", "actions": ["pull"]},
]
SERVICE = "dist-registry"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> OciLayout:
    built = OciLayout(tmp_path_factory.mktemp("dist-auth-layout") / "src", seed=11)
    built.add_index("multi", layers=2)
    return built


@pytest.fixture
def dist(tmp_path: Path) -> Dist:
    return Dist(tmp_path / "home")


@pytest.fixture
def token_server(spawn: Spawner, tmp_path: Path) -> Server:
    if token_server_command() is None:
        pytest.skip("the `registry-token-server` console script is not installed (pip install -e .)")
    server = start_token_server(tmp_path / "token-server", users=USERS, acl=ACL, service=SERVICE)
    spawn.servers.append(server)
    return server


def start(spawn: Spawner, kind: str, overrides: dict[str, Any]) -> Server:
    return spawn.ours("guarded", overrides) if kind == "ours" else spawn.reference("guarded", overrides)


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_bearer_tokens_after_login(
    spawn: Spawner, token_server: Server, dist: Dist, layout: OciLayout, tmp_path: Path, kind: str
) -> None:
    token = {
        "realm": realm(token_server),
        "service": SERVICE,
        "issuer": ISSUER,
        "rootcertbundle": str(signing_certificate(token_server)),
    }
    registry = start(spawn, kind, {"auth": {"token": token}})
    image = f"{registry.host}/dist/app"

    assert "UNAUTHORIZED" in dist.fails("copy", "--all", f"oci:{layout.path}:multi", f"{image}:v1")
    assert "refused" in dist.fails("login", registry.host, "-u", "alice", "--password-stdin", stdin="wrong\n")
    dist("login", registry.host, "-u", "alice", "--password-stdin", stdin="alice-pw\n")

    pushed = dist.json("copy", "--all", f"oci:{layout.path}:multi", f"{image}:v1")
    assert pushed["digest"] == layout.refs()["multi"].digest
    assert dist.json("ls", image) == ["v1"]
    assert "dist/app" in dist.json("catalog", registry.host)
    mounted = dist.json("copy", "--all", f"{image}:v1", f"{registry.host}/dist/copy:v1")
    assert mounted["blobs"]["mounted"] == 6  # the mount's token also grants pull on the source repository
    dist("copy", "--all", f"{image}:v1", f"oci:{tmp_path / 'pulled'}:v1", "-q")

    dist("login", registry.host, "-u", "bob", "--password-stdin", stdin="bob-pw\n")
    assert dist.json("digest", f"{image}:v1")["digest"] == pushed["digest"]
    assert "UNAUTHORIZED" in dist.fails("copy", "--all", f"oci:{layout.path}:multi", f"{image}:v2")
    dist("login", registry.host, "-u", "alice", "--password-stdin", stdin="alice-pw\n")
    dist("delete", f"{image}:v1")


@pytest.mark.parametrize("kind", ["ours", "reference"])
def test_basic_credentials_from_the_docker_config(
    spawn: Spawner, dist: Dist, layout: OciLayout, tmp_path: Path, kind: str
) -> None:
    users = write_htpasswd(tmp_path / "users.htpasswd", USERS)
    registry = start(spawn, kind, {"auth": {"htpasswd": {"realm": "dist realm", "path": str(users)}}})
    image = f"{registry.host}/dist/basic"

    assert "UNAUTHORIZED" in dist.fails("ls", image)
    assert "login to" in dist.fails("login", registry.host, "-u", "alice", "--password-stdin", stdin="nope\n")
    dist("login", registry.host, "-u", "alice", "--password-stdin", stdin="alice-pw\n")
    assert json.loads(dist.config.read_text())["auths"][registry.host]["auth"]
    assert dist.json("copy", "--all", f"oci:{layout.path}:multi", f"{image}:v1")["manifests"] == 3
    assert dist.json("ls", image) == ["v1"]
    dist("logout", registry.host)
    assert "UNAUTHORIZED" in dist.fails("ls", image)
