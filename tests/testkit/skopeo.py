"""The ``skopeo`` command line as a small typed wrapper: copy, inspect, list-tags and delete over plain HTTP."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

TIMEOUT = 120.0


class SkopeoFailed(AssertionError):
    """skopeo exited non-zero; the message carries its command line and stderr."""


class Skopeo:
    """Runs skopeo with TLS verification off (our servers speak plain HTTP on loopback)."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir

    @classmethod
    def find(cls, workdir: Path) -> Skopeo | None:
        found = shutil.which("skopeo")
        return cls(found, workdir) if found else None

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        # --insecure-policy: no signature policy file is needed; TMPDIR keeps its big-blob spool per test.
        argv = [self.binary, "--insecure-policy", *args]
        self.workdir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=TIMEOUT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(self.workdir), "TMPDIR": str(self.workdir)},
            check=False,
        )
        if check and done.returncode != 0:
            raise SkopeoFailed(
                f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}"
            )
        return done

    def copy(self, src: str, dst: str, *options: str) -> None:
        """``skopeo copy`` with TLS verification off on both ends (``--all``, ``--format v2s2`` as options)."""
        self.run("copy", "--src-tls-verify=false", "--dest-tls-verify=false", *options, src, dst)

    def inspect(self, ref: str, *options: str) -> dict[str, Any]:
        out = self.run("inspect", "--tls-verify=false", *options, ref).stdout
        return dict(json.loads(out))

    def inspect_raw(self, ref: str) -> bytes:
        """The manifest bytes exactly as the registry served them."""
        return self.run("inspect", "--tls-verify=false", "--raw", ref).stdout

    def list_tags(self, repository_ref: str) -> list[str]:
        out = self.run("list-tags", "--tls-verify=false", repository_ref).stdout
        return list(json.loads(out)["Tags"])

    def delete(self, ref: str) -> None:
        self.run("delete", "--tls-verify=false", ref)
