"""The processes under test (ours, the reference, nginx) on loopback: start, readiness, stop, RSS and CPU.

Every process is started in a session of its own, so ``stop()`` reaches the workers it forked through its
process group and nothing else. Memory and CPU are read from ``/proc`` for the whole process tree (granian's
workers are children of its main process; the reference is one process).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

SECRET = "registry-bench-shared-secret"
READY_TIMEOUT = 60.0
# A granian worker still starting when SIGTERM arrives can keep ours from exiting for good: don't wait long.
STOP_TIMEOUT = 5.0
# The reference's S3 driver panics at startup when this is set (STACK-NOTES), even with filesystem storage.
REFERENCE_ENV_DROP = ("AWS_CA_BUNDLE",)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class ServerFailed(RuntimeError):
    """A process exited or never answered; the message carries the tail of its log."""


@dataclass
class Process:
    """One running server: where it listens, its data directory, its log and how long it took to answer."""

    name: str
    url: str
    proc: subprocess.Popen[bytes]
    root: Path
    log: Path
    startup_s: float = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(text[-lines:])

    def stop(self, grace: float = STOP_TIMEOUT) -> None:
        """SIGTERM the process group, wait up to ``grace`` seconds, then SIGKILL whatever of the group is left."""
        if self.proc.poll() is None:
            _signal_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        _signal_group(self.proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # the session this module created for it (start_new_session)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ours_command() -> list[str] | None:
    """``registry`` beside the running interpreter, else on PATH; None when absent."""
    beside = Path(sys.executable).parent / "registry"
    found = str(beside) if beside.exists() else shutil.which("registry")
    return [found] if found else None


def registry_config(port: int, root: Path, extra: Mapping[str, Any]) -> dict[str, Any]:
    """distribution's config.yml: filesystem storage, deletes enabled, the shared secret, quiet logs; ``extra``
    sections merge into those, and ``{"storage": {"filesystem": None, "s3": {...}}}`` swaps the driver."""
    config: dict[str, Any] = {
        "version": "0.1",
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(root)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": SECRET},
    }
    for key, value in extra.items():
        if isinstance(value, Mapping):  # one level deep; a None value drops the key (swaps a storage driver)
            merged = {**config.get(key, {}), **value}
            config[key] = {k: v for k, v in merged.items() if v is not None}
        else:
            config[key] = value
    return config


def spawn(name: str, argv: Sequence[str], workdir: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
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


def environ(drop: Sequence[str] = ()) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_") and k not in drop}


def start_registry(
    name: str,
    argv_before_config: Sequence[str],
    workdir: Path,
    root: Path,
    *,
    extra_config: Mapping[str, Any] | None = None,
    extra_args: Sequence[str] = (),
    drop_env: Sequence[str] = (),
) -> Process:
    """Write ``workdir/<name>.yml``, run ``argv serve CONFIG extra_args``; return once ``GET /v2/`` is 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / f"{name}.yml"
    config.write_text(yaml.safe_dump(registry_config(port, root, extra_config or {}), sort_keys=False))
    started = time.perf_counter()
    proc = spawn(name, [*argv_before_config, "serve", str(config), *extra_args], workdir, environ(drop_env))
    process = Process(name, f"http://127.0.0.1:{port}", proc, root, workdir / f"{name}.log")
    try:
        wait_ready(process, "/v2/")
    except BaseException:
        process.stop()
        raise
    process.startup_s = time.perf_counter() - started
    return process


def start_ours(
    workdir: Path, root: Path, *, server: str, workers: int, extra_config: Mapping[str, Any] | None = None
) -> Process:
    command = ours_command()
    if command is None:
        raise ServerFailed("the `registry` console script is not installed (pip install -e .)")
    args = ["--server", server, "--workers", str(workers)]
    return start_registry("ours", command, workdir, root, extra_config=extra_config, extra_args=args)


def start_reference(workdir: Path, root: Path, *, extra_config: Mapping[str, Any] | None = None) -> Process:
    command = shutil.which("docker-registry")
    if command is None:
        raise ServerFailed("docker-registry is not installed (apt-get install docker-registry)")
    # Its access log (one line per request at info level) is turned off, as ours has none.
    extra = {"log": {"accesslog": {"disabled": True}}, **(extra_config or {})}
    return start_registry(
        "reference", [command], workdir, root, extra_config=extra, drop_env=REFERENCE_ENV_DROP
    )


def wait_ready(process: Process, path: str, method: str = "GET", timeout: float = READY_TIMEOUT) -> None:
    """Poll ``method path`` every 5 ms until it answers 200 (connection refused counts as not yet)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.proc.poll() is not None:
                raise ServerFailed(
                    f"{process.name} exited with status {process.proc.returncode}:\n{process.log_tail()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if client.request(method, process.url + path).status_code == 200:
                    return
            time.sleep(0.005)
    raise ServerFailed(
        f"{process.name} did not answer {method} {path} within {timeout}s:\n{process.log_tail()}"
    )


NGINX_CONF = """\
daemon off;
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path {dir}/nginx-body;
    proxy_temp_path {dir}/nginx-proxy;
    fastcgi_temp_path {dir}/nginx-fastcgi;
    server {{
        listen 127.0.0.1:{port};
        location = /blob {{ alias {file}; }}
    }}
}}
"""


def nginx_command() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def start_nginx(workdir: Path, blob: Path) -> Process:
    """nginx serving ``blob`` at ``/blob`` with sendfile: the limit line of a blob pull."""
    command = nginx_command()
    if command is None:
        raise ServerFailed("nginx is not installed (apt-get install nginx-light)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # Workers run as `nobody` under root unless told otherwise, and the temp dir is private (0700).
    user = "user root;" if os.geteuid() == 0 else ""
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, dir=workdir, port=port, file=blob))
    proc = spawn(
        "nginx",
        [command, "-p", str(workdir), "-e", str(workdir / "nginx-error.log"), "-c", str(conf)],
        workdir,
        environ(),
    )
    process = Process("nginx", f"http://127.0.0.1:{port}", proc, workdir, workdir / "nginx-error.log")
    try:
        wait_ready(process, "/blob", method="HEAD")
    except BaseException:
        process.stop()
        raise
    return process


def _stat_fields(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` from field 3 (state) on: the command name may hold spaces and parentheses."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rfind(")") + 2 :].split()


def tree_pids(root: int) -> list[int]:
    """``root`` and every descendant, from the parent ids in ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                children.setdefault(int(_stat_fields(int(entry))[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_rss(root: int) -> int:
    """Resident bytes summed over the process tree."""
    total = 0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    return total


def tree_pss(root: int) -> int:
    """Proportional set size summed over the tree: pages shared by forked workers counted once in all.

    RSS counts a page every process maps, so a supervisor and workers forked from it after loading
    the application each count the same code again; PSS splits shared pages between their sharers.
    """
    total = 0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
    return total


def tree_cpu(root: int) -> float:
    """User + system CPU-seconds summed over the live process tree."""
    ticks = 0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = _stat_fields(pid)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def wait_idle(root: int, *, busy: float = 0.25, window: float = 0.1, timeout: float = 120.0) -> float:
    """Wait until the tree uses under ``busy`` CPU-seconds per second over ``window``; the seconds waited.

    A load generator that stops leaves the server working off requests already queued; the next measurement
    must not share the CPU with them.
    """
    started = time.monotonic()
    before = tree_cpu(root)
    while time.monotonic() - started < timeout:
        time.sleep(window)
        after = tree_cpu(root)
        if after - before < busy * window:
            break
        before = after
    return time.monotonic() - started


class RssSampler:
    """Samples the tree's RSS every ``interval`` seconds on a thread while the ``with`` block runs; keeps the peak."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        self.root = root
        self.interval = interval
        self.peak = 0
        self.peak_pss = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss(self.root))
            self.peak_pss = max(self.peak_pss, tree_pss(self.root))
            self.samples += 1
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(self.root))
        self.peak_pss = max(self.peak_pss, tree_pss(self.root))
