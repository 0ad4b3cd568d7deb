"""``registry-token-server`` as a real process: users, ACL, a signing key it generates, optionally HTTPS.

``start_token_server`` returns a ``testkit.processes.Server`` (``config`` is the ACL, ``root`` its
directory) once ``GET /healthz`` answers; ``signing_certificate`` is what a registry's
``auth.token.rootcertbundle`` names. Append it to a Spawner's ``servers`` to have it stopped and its
log attached on failure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import yaml

from testkit.processes import READY_TIMEOUT, Server, ServerFailed, clean_environ, free_port
from testkit.tls import Issued

ISSUER = "interop-token-server"


def token_server_command() -> list[str] | None:
    beside = Path(sys.executable).parent / "registry-token-server"
    found = str(beside) if beside.exists() else shutil.which("registry-token-server")
    return [found] if found else None


def write_htpasswd(path: Path, users: Mapping[str, str]) -> Path:
    lines = [f"{user}:{bcrypt.hashpw(pw.encode(), bcrypt.gensalt(5)).decode()}" for user, pw in users.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def signing_certificate(server: Server) -> Path:
    return server.root / "signing.crt"


def realm(server: Server) -> str:
    return f"{server.url}/token"


def start_token_server(
    tmp_dir: Path,
    *,
    users: Mapping[str, str],
    acl: Sequence[Mapping[str, Any]],
    service: str,
    tls: Issued | None = None,
    verify: Any = True,
) -> Server:
    command = token_server_command()
    if command is None:
        raise ServerFailed("the `registry-token-server` console script is not installed")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    acl_path = tmp_dir / "acl.yml"
    acl_path.write_text(yaml.safe_dump(list(acl)))
    users_path = write_htpasswd(tmp_dir / "htpasswd", users)
    port = free_port()
    argv = [
        *command,
        "--addr", f"127.0.0.1:{port}",
        "--issuer", ISSUER,
        "--service", service,
        "--acl", str(acl_path),
        "--htpasswd", str(users_path),
        "--key", str(tmp_dir / "signing.key"),
        "--certificate", str(tmp_dir / "signing.crt"),
    ]  # fmt: skip
    if tls is not None:
        argv += ["--tls-certificate", str(tls.cert_path), "--tls-key", str(tls.key_path)]
    log = tmp_dir / "token-server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=clean_environ(),
            cwd=tmp_dir,
            start_new_session=True,
        )
    server = Server(
        name="token-server",
        port=port,
        proc=proc,
        root=tmp_dir,
        config=acl_path,
        log=log,
        scheme="https" if tls else "http",
        verify=verify,
    )
    try:
        _wait(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait(server: Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(timeout=2.0, verify=server.verify) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise ServerFailed(f"token server exited with {server.proc.returncode}:\n{server.log_text()}")
            try:
                if client.get(f"{server.url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise ServerFailed(f"token server did not answer within {READY_TIMEOUT}s:\n{server.log_text()}")
