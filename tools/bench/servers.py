"""The processes under test (ours, the reference, nginx) on loopback: start, stop, RSS and CPU.

Registries start through the starter the test tiers use too (``registry_toolkit.processes``: one config
merge, one readiness check, one stop); this module adds the benchmark's settings (quiet logs, a long
readiness timeout, a short stop), nginx as the limit line of a blob pull, and memory and CPU read from
``/proc`` for the whole process tree (granian's workers are children of its main process; the reference
is one process).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from registry_toolkit import processes
from registry_toolkit.processes import Server, ServerFailed, free_port, ours_command

__all__ = [
    "Process",
    "RssSampler",
    "ServerFailed",
    "free_port",
    "nginx_command",
    "ours_command",
    "page_cached",
    "start_nginx",
    "start_ours",
    "start_reference",
    "tree_cpu",
    "tree_pids",
    "tree_pss",
    "tree_rss",
    "wait_idle",
]

#: One running process of the benchmark (the shared starter's).
Process = Server

READY_TIMEOUT = 60.0
# A granian worker still starting when SIGTERM arrives can keep ours from exiting for good: don't wait long.
STOP_TIMEOUT = 5.0
QUIET = {"log": {"level": "warn", "accesslog": {"disabled": True}}}  # both sides: no line per request
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _settings(root: Path, extra_config: Mapping[str, Any] | None) -> dict[str, Any]:
    overrides = processes.merge(QUIET, extra_config or {})
    return {
        "config_overrides": overrides,
        "root": root,
        "ready_timeout": READY_TIMEOUT,
        "stop_timeout": STOP_TIMEOUT,
    }


def start_ours(
    workdir: Path,
    root: Path,
    *,
    server: str,
    workers: int,
    extra_config: Mapping[str, Any] | None = None,
    port: int | None = None,
) -> Server:
    """``registry serve`` on ``root`` with ``server`` and ``workers``; ``extra_config`` merges into the config;
    ``port``: where it listens (default: a free port)."""
    return processes.start_ours(
        workdir, server=server, workers=workers, port=port, **_settings(root, extra_config)
    )


def start_reference(
    workdir: Path, root: Path, *, extra_config: Mapping[str, Any] | None = None, port: int | None = None
) -> Server:
    """``docker-registry serve`` on ``root`` (its access log off, as ours has none)."""
    return processes.start_reference(workdir, port=port, **_settings(root, extra_config))


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
    proc = processes.spawn(
        "nginx",
        [command, "-p", str(workdir), "-e", str(workdir / "nginx-error.log"), "-c", str(conf)],
        workdir,
        processes.clean_environ(),
    )
    process = Server("nginx", port, proc, workdir, workdir / "nginx-error.log", stop_timeout=STOP_TIMEOUT)
    try:
        processes.wait_ready(process, "/blob", method="HEAD", ok=(200,), timeout=READY_TIMEOUT)
    except BaseException:
        process.stop()
        raise
    return process


def page_cached(path: Path) -> float | None:
    """The fraction of ``path``'s bytes in the page cache (util-linux ``fincore``); None when unknown."""
    try:
        done = subprocess.run(
            ["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES,SIZE", str(path)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        resident, size = (int(field) for field in done.stdout.split())
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return min(1.0, resident / size) if size else None


def read_into_cache(path: Path) -> None:
    """Read ``path`` once (to /dev/null, in 1 MiB reads), so a pull of it is served from the page cache."""
    with path.open("rb", buffering=0) as f:
        while f.read(1 << 20):
            pass


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
