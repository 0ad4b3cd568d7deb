"""SIGHUP: reload everything the workers apply, or nothing.

The supervising process (granian's, or uvicorn's with several workers) owns the listening socket, TLS
and the server's own timers; the workers own everything else (storage, auth, policy, validation,
headers, caches, logs, maintenance schedules, the prefix). So on SIGHUP the supervisor re-reads the
configuration file (and the same environment) and checks it exactly as ``serve`` does at startup:

- it does not load, refuses a key, names a bad storage value or an unusable auth setup → one error
  line naming it, and **nothing** changes: the running workers keep the old configuration;
- it changes a key only a restart can apply (:data:`RESTART_ONLY`) → one line naming those keys, and
  **nothing** changes (not half of it);
- otherwise the workers are replaced one at a time, each replacement serving before the worker it
  replaces is stopped (drained), so no request is refused; every new worker reads the new file.

uvicorn with one worker serves inside the supervising process and cannot replace itself: there SIGHUP
is logged and changes nothing (it no longer terminates the server, Python's default for SIGHUP).
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from typing import Any

from registry_impl import logs
from registry_impl.config import Config, ConfigError, load_config

__all__ = ["RESTART_ONLY", "Reloader", "ignore_sighup", "restart_only_changes"]

log = logging.getLogger("registry")

SECRET_ENV = "REGISTRY_HTTP_SECRET"
WORKER_READY_TIMEOUT = 60  # seconds a new uvicorn worker may take to start on a loaded machine

# What the supervising process applies: the listener, TLS, the server's limits and its drain.
RESTART_ONLY: tuple[str, ...] = (
    "http.addr",
    "http.net",
    "http.tls",
    "http.http2",
    "http.h2c",
    "http.limits",
    "http.draintimeout",
    "http.debug",
)


def _value(config: Config, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def restart_only_changes(old: Config, new: Config) -> list[str]:
    """The keys of :data:`RESTART_ONLY` whose value differs between ``old`` and ``new``."""
    return [key for key in RESTART_ONLY if _value(old, key) != _value(new, key)]


class Reloader:
    """Decides, in the supervising process, whether a SIGHUP may replace the workers.

    ``check`` is the startup check that ``serve`` runs (``check`` of a new config raises
    ``ConfigError``/``ValueError`` naming the key); ``workers`` tells how many workers the new
    configuration would run, which also only a restart can change.
    """

    def __init__(
        self,
        path: str | None,
        config: Config,
        check: Callable[[Config], None],
        workers: Callable[[Config], int],
        generated_secret: str | None = None,
    ) -> None:
        self.path = path
        self.config = config
        self._check = check
        self._workers = workers
        self._generated_secret = generated_secret  # serve's random secret, handed to the workers by env

    def approve(self) -> bool:
        """Re-read and check the configuration; True when the workers may be replaced."""
        source = self.path or "the embedded default configuration"
        try:
            new = self._load()
            self._check(new)
        except (ConfigError, ValueError, OSError) as exc:
            log.error("SIGHUP: nothing reloaded, %s does not start: %s", source, exc)
            return False
        changed = restart_only_changes(self.config, new)
        if self._workers(new) != self._workers(self.config):
            changed.append("storage (the worker count follows the in-memory driver)")
        if changed:
            log.error(
                "SIGHUP: nothing reloaded, %s changes %s, which only a restart applies",
                source,
                ", ".join(changed),
            )
            return False
        self.config = new
        logs.configure(new.log)
        log.warning("SIGHUP: reloading %s, replacing the workers one at a time", source)
        return True

    def _load(self) -> Config:
        if self._generated_secret is None:
            return load_config(self.path)
        # The random secret serve generated reaches the workers as an environment override; a file
        # that now sets http.secret must win over it, so read the file without it.
        os.environ.pop(SECRET_ENV, None)
        try:
            new = load_config(self.path)
        finally:
            os.environ[SECRET_ENV] = self._generated_secret
        if not new.http.secret_generated:
            os.environ.pop(SECRET_ENV, None)
            self._generated_secret = None
            return new
        return load_config(self.path)  # with the same generated secret as every running worker


def granian_hook(server: Any, reloader: Reloader) -> None:
    """Make granian's supervisor ask ``reloader`` before it respawns its workers on SIGHUP."""
    respawn = server.signal_handler_reload

    def on_sighup(*args: Any, **kwargs: Any) -> None:
        if reloader.approve():
            respawn(*args, **kwargs)

    server.signal_handler_reload = on_sighup  # read by granian's startup() when it installs its handlers


def uvicorn_supervisor(reloader: Reloader) -> type:
    """uvicorn's multiprocess supervisor, asking ``reloader`` before it restarts its workers on SIGHUP."""
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    class ReloadingMultiprocess(Multiprocess):
        def handle_hup(self) -> None:
            if reloader.approve():
                self.restart_all()

        def restart_all(self) -> None:
            """All replacements ready before any worker retires, or none retires: uvicorn's own restart
            gives up half-way when one replacement is slow to start (5 s), leaving workers on both files."""
            fresh = [Process(self.config, self.sockets) for _ in self.processes]
            for process in fresh:
                process.start()
            if not all(p.wait_until_ready(WORKER_READY_TIMEOUT, self.should_exit) for p in fresh):
                for process in fresh:
                    process.kill()
                    process.join()
                if not self.should_exit.is_set():
                    log.error(
                        "SIGHUP: nothing reloaded, a new worker was not ready within %d s",
                        WORKER_READY_TIMEOUT,
                    )
                return
            retiring, self.processes = self.processes, fresh
            for process in retiring:  # one at a time: the others keep accepting meanwhile
                process.terminate()
                process.join()

    return ReloadingMultiprocess


def ignore_sighup(reason: str) -> None:
    """SIGHUP changes nothing here: say so instead of dying (Python's default for SIGHUP)."""

    def on_sighup(signum: int, frame: object) -> None:
        log.error("SIGHUP: nothing reloaded: %s; restart the registry to apply a change", reason)

    signal.signal(signal.SIGHUP, on_sighup)
