"""Docker config credentials: auths entries, credential helpers (a fake docker-credential-* script), login/logout."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from registry_client.credentials import Credential, CredentialHelperFailed, DockerConfig, normalize_host

HELPER = """#!/bin/sh
# A fake credential helper keeping one JSON file per server in $FAKE_STORE.
action=$1
read -r input
case "$action" in
  get)
    file="$FAKE_STORE/$(echo "$input" | tr '/:' '__')"
    if [ -f "$file" ]; then cat "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    server=$(echo "$input" | sed 's/.*"ServerURL": *"\\([^"]*\\)".*/\\1/')
    echo "$input" > "$FAKE_STORE/$(echo "$server" | tr '/:' '__')" ;;
  erase)
    rm -f "$FAKE_STORE/$(echo "$input" | tr '/:' '__')" ;;
  *) echo "unknown action" >&2; exit 2 ;;
esac
"""


@pytest.fixture
def helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir, store = tmp_path / "bin", tmp_path / "store"
    bin_dir.mkdir()
    store.mkdir()
    script = bin_dir / "docker-credential-fake"
    script.write_text(HELPER)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_STORE", str(store))
    return store


def write(path: Path, document: dict[str, object]) -> DockerConfig:
    path.write_text(json.dumps(document))
    return DockerConfig(path)


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_auths_entries_match_by_host(tmp_path: Path) -> None:
    config = write(
        tmp_path / "config.json",
        {
            "auths": {
                "https://registry.example.com:5000/v1/": {"auth": auth("bob", "pa:ss")},
                "https://index.docker.io/v1/": {"auth": auth("hub", "pw")},
                "tokens.example.com": {"identitytoken": "refresh"},
            }
        },
    )
    assert config.get("registry.example.com:5000") == Credential("bob", "pa:ss")
    assert config.get("docker.io") == Credential("hub", "pw")
    assert config.get("registry-1.docker.io") == Credential("hub", "pw")
    assert config.get("tokens.example.com") == Credential(identity_token="refresh")
    assert config.get("elsewhere.example.com") is None


def test_a_missing_file_has_no_credentials(tmp_path: Path) -> None:
    assert DockerConfig(tmp_path / "absent.json").get("r.example.com") is None


def test_docker_config_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert DockerConfig().path == tmp_path / "config.json"


def test_store_and_erase_in_the_file(tmp_path: Path) -> None:
    config = write(
        tmp_path / "config.json", {"auths": {"other.example.com": {"auth": auth("o", "p")}}, "x": 1}
    )
    config.store("r.example.com:5000", Credential("alice", "s3cret"))
    document = json.loads(config.path.read_text())
    assert document["auths"]["r.example.com:5000"] == {"auth": auth("alice", "s3cret")}
    assert document["x"] == 1 and "other.example.com" in document["auths"]
    assert stat.S_IMODE(config.path.stat().st_mode) == 0o600
    assert config.get("r.example.com:5000") == Credential("alice", "s3cret")
    assert config.erase("r.example.com:5000") is True
    assert config.get("r.example.com:5000") is None
    assert config.erase("r.example.com:5000") is False


def test_cred_helpers_take_precedence(tmp_path: Path, helper: Path) -> None:
    (helper / "r.example.com").write_text(
        json.dumps({"ServerURL": "r.example.com", "Username": "h", "Secret": "s"})
    )
    config = write(
        tmp_path / "config.json",
        {"credHelpers": {"r.example.com": "fake"}, "auths": {"r.example.com": {"auth": auth("file", "x")}}},
    )
    assert config.get("r.example.com") == Credential("h", "s")


def test_helper_token_username_means_identity_token(tmp_path: Path, helper: Path) -> None:
    (helper / "r.example.com").write_text(json.dumps({"Username": "<token>", "Secret": "refresh"}))
    config = write(tmp_path / "config.json", {"credsStore": "fake"})
    assert config.get("r.example.com") == Credential(identity_token="refresh")


def test_helper_not_found_falls_back_to_auths(tmp_path: Path, helper: Path) -> None:
    config = write(
        tmp_path / "config.json", {"credsStore": "fake", "auths": {"r.example.com": {"auth": auth("f", "x")}}}
    )
    assert config.get("r.example.com") == Credential("f", "x")


def test_store_and_erase_through_the_helper(tmp_path: Path, helper: Path) -> None:
    config = write(tmp_path / "config.json", {"credsStore": "fake"})
    config.store("r.example.com:5000", Credential("alice", "s3cret"))
    assert json.loads(config.path.read_text())["auths"] == {"r.example.com:5000": {}}
    assert config.get("r.example.com:5000") == Credential("alice", "s3cret")
    assert config.erase("r.example.com:5000") is True
    assert config.get("r.example.com:5000") is None


def test_a_missing_helper_is_a_clear_error(tmp_path: Path) -> None:
    config = write(tmp_path / "config.json", {"credsStore": "does-not-exist"})
    with pytest.raises(CredentialHelperFailed, match="docker-credential-does-not-exist"):
        config.get("r.example.com")


@pytest.mark.parametrize(
    ("server", "host"),
    [
        ("https://r.example.com:5000/v1/", "r.example.com:5000"),
        ("http://R.Example.com", "r.example.com"),
        ("index.docker.io", "docker.io"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_normalize_host(server: str, host: str) -> None:
    assert normalize_host(server) == host
