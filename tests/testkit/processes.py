"""Real registry processes on loopback: ours (``registry serve``) and the reference (``docker-registry serve``).

Each server gets a free port, a temporary ``config.yml`` in distribution's format and a log file; ``start_*``
returns once ``GET /v2/`` answers and ``Server.stop()`` terminates, waits and finally kills its process group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 80
PORT_ATTEMPTS = 3
# The reference's S3 driver panics at startup when this is set (see STACK-NOTES).
REFERENCE_ENV_DROP = ("AWS_CA_BUNDLE",)


class ServerFailed(RuntimeError):
    """A server process exited or never answered; the message carries its log."""


@dataclass
class Server:
    """One running registry process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    root: Path
    config: Path
    log: Path
    scheme: str = "http"
    verify: Any = True  # what httpx verifies an https server with (an ssl.SSLContext carries a client cert)
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the registry part of an image reference."""
        return f"127.0.0.1:{self.port}"

    def ref(self, repository: str, reference: str = "latest") -> str:
        """A skopeo ``docker://`` transport reference to an image on this server."""
        sep = "@" if reference.startswith("sha256:") else ":"
        return f"docker://{self.host}/{repository}{sep}{reference}"

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("verify", self.verify)
        return httpx.Client(base_url=self.url, timeout=30.0, **kwargs)

    def log_text(self, tail: int | None = LOG_TAIL_LINES) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-tail:] if tail else lines)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        """Terminate (SIGTERM), wait, then kill the process group; returns the exit status."""
        if self.proc.poll() is None:
            _signal_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        # Workers a server forked share its process group; none may outlive it.
        _signal_group(self.proc, signal.SIGKILL)
        return self.proc.returncode


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # the group this module created with start_new_session


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ours_command() -> list[str] | None:
    """``registry`` from the running interpreter's environment, else from PATH; None when absent."""
    beside = Path(sys.executable).parent / "registry"
    found = str(beside) if beside.exists() else shutil.which("registry")
    return [found] if found else None


def reference_command() -> list[str] | None:
    found = shutil.which("docker-registry")
    return [found] if found else None


def merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into a copy of ``base`` (mappings merge, None removes the key, anything else
    replaces): ``{"storage": {"filesystem": None, "s3": {...}}}`` swaps the storage driver."""
    out = dict(base)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def write_config(path: Path, port: int, root: Path, overrides: Mapping[str, Any] | None = None) -> Path:
    config: dict[str, Any] = {
        "version": "0.1",
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": str(root)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "interop-shared-secret"},
    }
    path.write_text(yaml.safe_dump(merge(config, overrides or {}), sort_keys=False))
    return path


def clean_environ(drop: Sequence[str] = ()) -> dict[str, str]:
    """The test environment without ``REGISTRY_*`` overrides (they would leak into every server)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_") and k not in drop}


def launch(
    name: str,
    command: Sequence[str],
    tmp_dir: Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    root: Path | None = None,
    drop_env: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    scheme: str = "http",
    verify: Any = True,
) -> Server:
    """Write a config into ``tmp_dir``, run ``command serve CONFIG [extra_args]`` and wait until ``GET /v2/`` answers.

    ``port`` and ``root`` default to a free port and ``tmp_dir/data``; ``overrides`` are merged into the
    config after them, and ``env`` is added to the environment (so both can disagree with ``port``/``root``,
    which is how environment overrides are tested: ``port`` is where the server is expected to listen).
    A server configured with ``http.tls`` is reached with ``scheme="https"`` and ``verify`` (a CA file or
    an ``ssl.SSLContext``, which may carry a client certificate for mutual TLS).
    """
    tmp_dir.mkdir(parents=True, exist_ok=True)
    environ = clean_environ(drop_env)
    environ.update(env or {})
    root = root or tmp_dir / "data"
    for attempt in range(PORT_ATTEMPTS):
        server = _spawn(
            name, command, tmp_dir, overrides, environ, port or free_port(), root, extra_args, scheme, verify
        )
        try:
            wait_ready(server)
            return server
        except ServerFailed:
            server.stop()
            # free_port() only picks a port: another process may bind it first. Try a fresh one.
            lost_port = "address already in use" in server.log_text().lower()
            if port is not None or not lost_port or attempt == PORT_ATTEMPTS - 1:
                raise
        except BaseException:
            server.stop()
            raise
    raise AssertionError("unreachable")


def _spawn(
    name: str,
    command: Sequence[str],
    tmp_dir: Path,
    overrides: Mapping[str, Any] | None,
    environ: Mapping[str, str],
    port: int,
    root: Path,
    extra_args: Sequence[str],
    scheme: str = "http",
    verify: Any = True,
) -> Server:
    config = write_config(tmp_dir / f"{name}-config.yml", port, root, overrides)
    log = tmp_dir / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*command, "serve", str(config), *extra_args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(environ),
            cwd=tmp_dir,
            start_new_session=True,
        )
    return Server(
        name=name, port=port, proc=proc, root=root, config=config, log=log, scheme=scheme, verify=verify
    )


def wait_ready(server: Server, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, verify=server.verify) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise ServerFailed(
                    f"{server.name} exited with status {server.proc.returncode} before answering:\n"
                    + server.log_text()
                )
            try:
                if client.get(f"{server.url}/v2/").status_code in (200, 401):
                    time.sleep(0.1)  # one that failed to bind exits at once: then the answer was a stranger's
                    if server.proc.poll() is None:
                        return
                    continue
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise ServerFailed(f"{server.name} did not answer GET /v2/ within {timeout}s:\n" + server.log_text())


def run_to_exit(argv: Sequence[str], env: Mapping[str, str], timeout: float = 30.0) -> tuple[int | None, str]:
    """Run a command expected to exit by itself: (status, stdout+stderr); its whole process group is killed
    if it is still running after ``timeout`` (status None), so a server that did start leaves nothing behind."""
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=dict(env),
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
            status: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            out, _ = proc.communicate()
            status = None
        _signal_group(proc, signal.SIGKILL)
    return status, out.decode(errors="replace")


def start_ours(
    tmp_dir: Path,
    config_overrides: Mapping[str, Any] | None = None,
    *,
    server: str = "granian",
    workers: int | None = None,
    **kwargs: Any,
) -> Server:
    """``registry serve CONFIG --server SERVER`` (see ``launch`` for the keyword arguments)."""
    command = ours_command()
    if command is None:
        raise ServerFailed("the `registry` console script is not installed")
    extra = ["--server", server] + (["--workers", str(workers)] if workers else [])
    return launch("ours", command, tmp_dir, config_overrides, extra_args=extra, **kwargs)


def start_reference(
    tmp_dir: Path, config_overrides: Mapping[str, Any] | None = None, **kwargs: Any
) -> Server:
    """Debian's ``docker-registry serve CONFIG`` (distribution 2.8.2), without ``AWS_CA_BUNDLE``."""
    command = reference_command()
    if command is None:
        raise ServerFailed("docker-registry is not installed")
    kwargs.setdefault("drop_env", REFERENCE_ENV_DROP)
    quiet = {"log": {"accesslog": {"disabled": True}}}  # its request log already has one line per request
    return launch("reference", command, tmp_dir, merge(quiet, config_overrides or {}), **kwargs)


class Spawner:
    """Starts servers under one directory and remembers them, so teardown and failure reports can reach them."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.servers: list[Server] = []

    def ours(self, name: str = "ours", overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Server:
        return self._keep(start_ours(self.tmp_path / name, overrides, **kwargs))

    def reference(
        self, name: str = "reference", overrides: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Server:
        return self._keep(start_reference(self.tmp_path / name, overrides, **kwargs))

    def _keep(self, server: Server) -> Server:
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
