"""htpasswd: parsing as distribution parses, bcrypt only, reload on change, the Basic challenge."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import bcrypt
import pytest

from registry_impl.auth.base import Access, Challenge, Resource
from registry_impl.auth.htpasswd import HtpasswdAccessController, HtpasswdError, HtpasswdFile, parse_htpasswd
from registry_impl.config import ConfigError

pytestmark = pytest.mark.anyio
PULL = [Access(Resource("repository", "org/app"), "pull")]


def hashed(password: str, prefix: str = "$2b$") -> str:
    value = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    return prefix + value[4:]


def write(path: Path, text: str) -> None:
    path.write_text(text)
    # Make the change visible even within one mtime tick.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_parse_skips_blank_lines_and_comments_and_keeps_the_last_entry() -> None:
    text = "# users\n\n  alice:$2y$05$first  \nbob:$2b$05$x\nalice:$2y$05$second\n   # indented comment\n"
    assert parse_htpasswd(text) == {"alice": b"$2y$05$second", "bob": b"$2b$05$x"}


def test_parse_rejects_a_line_without_a_colon() -> None:
    with pytest.raises(HtpasswdError, match="line 2"):
        parse_htpasswd("alice:$2y$05$x\nbroken\n")


def test_an_empty_hash_is_an_entry_that_never_matches() -> None:
    assert parse_htpasswd("alice:") == {"alice": b""}


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
async def test_every_bcrypt_variant_verifies(tmp_path: Path, prefix: str) -> None:
    path = tmp_path / "htpasswd"
    write(path, f"alice:{hashed('s3cret', prefix)}\n")
    users = HtpasswdFile(path)
    assert await users.verify("alice", "s3cret")
    assert not await users.verify("alice", "wrong")
    assert not await users.verify("mallory", "s3cret")


async def test_non_bcrypt_hashes_never_match(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    write(path, "md5:$apr1$abc$def\nsha:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\nplain:password\n")
    users = HtpasswdFile(path)
    for user, password in (("md5", "x"), ("sha", "password"), ("plain", "password")):
        assert not await users.verify(user, password)


async def test_the_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    write(path, f"alice:{hashed('one')}\n")
    users = HtpasswdFile(path)
    assert await users.verify("alice", "one")
    write(path, f"alice:{hashed('two')}\nbob:{hashed('three')}\n")
    assert not await users.verify("alice", "one")  # the remembered success went with the old hash
    assert await users.verify("alice", "two")
    assert await users.verify("bob", "three")
    write(path, f"bob:{hashed('three')}\n")
    assert not await users.verify("alice", "two")


async def test_a_success_is_remembered_without_bcrypt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "htpasswd"
    write(path, f"alice:{hashed('s3cret')}\n")
    users = HtpasswdFile(path)
    assert await users.verify("alice", "s3cret")
    calls: list[object] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(a) or real(*a))
    assert await users.verify("alice", "s3cret")
    assert calls == []
    assert not await users.verify("alice", "s3cret!")  # a different password is checked in full
    assert len(calls) == 1


async def test_an_unknown_user_costs_a_bcrypt_check_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "htpasswd"
    write(path, f"alice:{hashed('s3cret')}\n")
    users = HtpasswdFile(path)
    calls: list[object] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(a) or real(*a))
    assert not await users.verify("nobody", "s3cret")
    assert len(calls) == 1


async def test_controller_challenges_with_basic_realm(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    write(path, f"alice:{hashed('s3cret')}\n")
    controller = HtpasswdAccessController.from_params({"realm": "Registry Realm", "path": str(path)})
    grant = await controller.authorized(basic("alice", "s3cret"), PULL)
    assert grant.user == "alice"
    for headers in ({}, basic("alice", "nope"), {"authorization": "Bearer abc"}, basic("eve", "s3cret")):
        with pytest.raises(Challenge) as caught:
            await controller.authorized(headers, PULL)
        assert caught.value.headers == {"WWW-Authenticate": 'Basic realm="Registry Realm"'}
        assert caught.value.detail == [
            {"Type": "repository", "Class": "", "Name": "org/app", "Action": "pull"}
        ]


async def test_an_unparsable_file_is_an_error_not_a_challenge(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    write(path, "broken line\n")
    controller = HtpasswdAccessController.from_params({"realm": "r", "path": str(path)})
    with pytest.raises(HtpasswdError):
        await controller.authorized(basic("alice", "x"), PULL)


def test_a_missing_file_is_provisioned_with_user_docker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "auth" / "htpasswd"
    HtpasswdAccessController.from_params({"realm": "r", "path": str(path)})
    entries = parse_htpasswd(path.read_text())
    assert list(entries) == ["docker"]
    assert entries["docker"].startswith(b"$2")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "provisioning with default user" in caplog.text


def test_realm_and_path_are_required_before_anything_is_provisioned(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"auth\.htpasswd\.path"):
        HtpasswdAccessController.from_params({"realm": "r"})
    with pytest.raises(ConfigError, match=r"auth\.htpasswd\.realm"):
        HtpasswdAccessController.from_params({"path": str(tmp_path / "htpasswd"), "realm": ""})
    assert not (tmp_path / "htpasswd").exists()
