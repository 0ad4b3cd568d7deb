"""The ``dist`` command line as a subprocess (``python -m registry_toolkit.dist``) with a Docker config of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
        env = {**os.environ, "HOME": str(self.home), "DOCKER_CONFIG": str(self.home / ".docker"), **self.env}
        done = subprocess.run(
            [sys.executable, "-m", "registry_toolkit.dist", *args],
            capture_output=True, text=True, env=env, input=stdin, timeout=300, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"dist {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

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
