"""The ``dist`` command line as a subprocess (``python -m registry_toolkit.dist``) with a Docker config of its own,
or in-process (:class:`InProcessDist`: the same ``main``, without a Python start per command)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class Dist:
    """Runs ``dist`` with ``HOME`` and ``DOCKER_CONFIG`` under ``home``, so logins stay in the test."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = dict(env or {})  # added to each run's environment (DIST_CERTS_D, REGISTRY_AUTH_FILE)
        home.mkdir(parents=True, exist_ok=True)

    @property
    def config(self) -> Path:
        return self.home / ".docker" / "config.json"

    def __call__(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = self._run(list(args), stdin)
        if check and done.returncode != 0:
            raise AssertionError(f"dist {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

    def _environ(self) -> dict[str, str]:
        return {"HOME": str(self.home), "DOCKER_CONFIG": str(self.home / ".docker"), **self.env}

    def _run(self, args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "registry_toolkit.dist", *args],
            capture_output=True, text=True, env={**os.environ, **self._environ()}, input=stdin, timeout=300,
            check=False,
        )  # fmt: skip

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def fails(self, *args: str, stdin: str | None = None) -> str:
        """Run a command expected to fail cleanly: status 1, its last line ``dist: error: …``, no traceback.
        Returns that line."""
        done = self(*args, check=False, stdin=stdin)
        assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
        lines = done.stderr.splitlines()
        assert lines and lines[-1].startswith("dist: error: "), done.stderr
        assert "Traceback" not in done.stderr and sum(line.startswith("dist: error") for line in lines) == 1
        return lines[-1]


class InProcessDist(Dist):
    """``dist``'s ``main`` called in this process (stdout and stderr captured, the environment set for the call):
    what a command does, without the second or so a Python start costs on a loaded machine. Not for commands that
    write bytes to stdout (``manifest``, ``blob get``) or read stdin."""

    def _run(self, args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        from registry_toolkit.dist.cli import main

        assert stdin is None, "in-process dist reads no stdin"
        out, err = io.StringIO(), io.StringIO()
        with _environment(self._environ()), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(args)
            except SystemExit as exc:  # argparse: --version, --help, usage errors
                status = exc.code if isinstance(exc.code, int) else 2
        return subprocess.CompletedProcess(["dist", *args], status, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
