"""Real registry processes on loopback, for the test tiers and the benchmark alike: ours (``registry serve``),
the reference (``docker-registry serve``) and any helper process (moto, nginx, a token server).

Each registry gets a free port, a ``config.yml`` in distribution's format written from one base and the
caller's overrides (:func:`merge`: mappings merge at every depth, ``None`` removes a key, anything else
replaces), and a log file. Every process starts in a session of its own, so :meth:`Server.stop` reaches the
workers it forked through its process group and nothing else. ``start_*`` return once ``GET /v2/`` answers;
``Server.startup_s`` is the time from spawn to that first answer (the benchmark's cold start).
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

__all__ = [
    "READY_TIMEOUT",
    "REFERENCE_ENV_DROP",
    "STOP_TIMEOUT",
    "Server",
    "ServerFailed",
    "Spawner",
    "clean_environ",
    "free_port",
    "launch",
    "merge",
    "ours_command",
    "reference_command",
    "run_to_exit",
    "spawn",
    "start_ours",
    "start_reference",
    "wait_ready",
    "write_config",
]

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 80
PORT_ATTEMPTS = 3
POLL_INTERVAL = 0.005  # fine enough to time a cold start
SECRET = "loopback-shared-secret"
# The reference's S3 driver panics at startup when this is set (STACK-NOTES), even with filesystem storage.
REFERENCE_ENV_DROP = ("AWS_CA_BUNDLE",)


class ServerFailed(RuntimeError):
    """A server process exited or never answered; the message carries its log."""


@dataclass
class Server:
    """One running process: where it listens, its data directory, its config and log, how long it took to answer."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    root: Path
    log: Path
    config: Path | None = None
    scheme: str = "http"
    verify: Any = True  # what httpx verifies an https server with (an ssl.SSLContext carries a client cert)
    startup_s: float = 0.0
    spawned_at: float = 0.0  # time.monotonic() just before the spawn
    stop_timeout: float = STOP_TIMEOUT
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the registry part of an image reference."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

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

    def stop(self, grace: float | None = None) -> int:
        """SIGTERM, wait ``grace`` (default ``stop_timeout``) seconds, then kill the process group; the exit status."""
        if self.proc.poll() is None:
            _signal_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(self.stop_timeout if grace is None else grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        # Workers a server forked share its process group; none may outlive it.
        _signal_group(self.proc, signal.SIGKILL)
        return self.proc.returncode


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # the session ``spawn`` created for it (start_new_session)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ours_command() -> list[str] | None:
    """``registry`` beside the running interpreter, else on PATH; None when absent."""
    beside = Path(sys.executable).parent / "registry"
    found = str(beside) if beside.exists() else shutil.which("registry")
    return [found] if found else None


def reference_command() -> list[str] | None:
    found = shutil.which("docker-registry")
    return [found] if found else None


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into a copy of ``base`` (mappings merge, None removes the key, anything else
    replaces): ``{"storage": {"filesystem": None, "s3": {...}}}`` swaps the storage driver."""
    out = dict(base)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def write_config(path: Path, port: int, root: Path, overrides: Mapping[str, Any] | None = None) -> Path:
    """distribution's config.yml: filesystem storage under ``root``, deletes enabled, a shared secret."""
    config: dict[str, Any] = {
        "version": "0.1",
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": str(root)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": SECRET},
    }
    path.write_text(yaml.safe_dump(merge(config, overrides or {}), sort_keys=False))
    return path


def clean_environ(drop: Sequence[str] = ()) -> dict[str, str]:
    """This environment without ``REGISTRY_*`` overrides (they would leak into every server) and ``drop``."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_") and k not in drop}


def spawn(name: str, argv: Sequence[str], workdir: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Run ``argv`` in ``workdir`` in a session of its own, output appended to ``workdir/<name>.log``."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / f"{name}.log").open("ab") as out:
        return subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=workdir,
            start_new_session=True,
        )


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
    ready_timeout: float = READY_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
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
        chosen = port or free_port()
        config = write_config(tmp_dir / f"{name}-config.yml", chosen, root, overrides)
        started = time.monotonic()
        proc = spawn(name, [*command, "serve", str(config), *extra_args], tmp_dir, environ)
        log = tmp_dir / f"{name}.log"
        server = Server(name, chosen, proc, root, log, config, scheme, verify, stop_timeout=stop_timeout)
        server.spawned_at = started
        try:
            server.startup_s = wait_ready(server, timeout=ready_timeout) - started
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


def wait_ready(
    server: Server,
    path: str = "/v2/",
    *,
    method: str = "GET",
    ok: Sequence[int] = (200, 401),
    timeout: float = READY_TIMEOUT,
) -> float:
    """Poll ``method path`` until it answers with a status in ``ok``; the ``time.monotonic()`` of that answer.

    Connection refused counts as not yet; an answer is believed once the process is still alive a moment
    later (one that failed to bind exits at once: then the answer was a stranger's on the same port).
    """
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, verify=server.verify) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise ServerFailed(
                    f"{server.name} exited with status {server.proc.returncode} before answering:\n"
                    + server.log_text()
                )
            with contextlib.suppress(httpx.TransportError):
                if client.request(method, server.url + path).status_code in ok:
                    answered = time.monotonic()
                    time.sleep(0.1)
                    if server.proc.poll() is None:
                        return answered
                    continue
            time.sleep(POLL_INTERVAL)
    raise ServerFailed(
        f"{server.name} did not answer {method} {path} within {timeout}s:\n" + server.log_text()
    )


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
    """``registry serve CONFIG --server SERVER [--workers N]`` (see ``launch`` for the keyword arguments)."""
    command = ours_command()
    if command is None:
        raise ServerFailed("the `registry` console script is not installed (pip install -e .)")
    extra = ["--server", server] + (["--workers", str(workers)] if workers else [])
    return launch("ours", command, tmp_dir, config_overrides, extra_args=extra, **kwargs)


def start_reference(
    tmp_dir: Path, config_overrides: Mapping[str, Any] | None = None, **kwargs: Any
) -> Server:
    """Debian's ``docker-registry serve CONFIG`` (distribution 2.8.2), without ``AWS_CA_BUNDLE``."""
    command = reference_command()
    if command is None:
        raise ServerFailed("docker-registry is not installed (apt-get install docker-registry)")
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
