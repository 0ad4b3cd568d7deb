"""The programs the bench drives: find them, install the Debian ones as root, or say exactly what is missing."""

from __future__ import annotations

import os
import shutil
import subprocess

from registry_toolkit.bench.servers import nginx_command, ours_command

# binary → the Debian package that provides it
DEBIAN: dict[str, str] = {
    "docker-registry": "docker-registry",
    "wrk": "wrk",
    "ab": "apache2-utils",
    "nginx": "nginx-light",
    "curl": "curl",
}


def _found(binary: str) -> bool:
    return (nginx_command() if binary == "nginx" else shutil.which(binary)) is not None


def missing_binaries() -> dict[str, str]:
    return {binary: package for binary, package in DEBIAN.items() if not _found(binary)}


def _apt_get(*args: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], env=env, check=False).returncode == 0


def install(packages: list[str]) -> bool:
    """``apt-get install -y`` (after ``apt-get update`` if the first try fails); True when it worked."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    return _apt_get("install", "-y", "-q", *packages) or (
        _apt_get("update", "-q") and _apt_get("install", "-y", "-q", *packages)
    )


def ensure(*, allow_install: bool) -> list[str]:
    """Problems left after installing what can be installed: empty when the bench can run."""
    problems: list[str] = []
    if ours_command() is None:
        problems.append("the `registry` console script (this project): pip install -e .")
    missing = missing_binaries()
    if missing and allow_install and install(sorted(set(missing.values()))):
        missing = missing_binaries()
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        problems.append(
            f"{', '.join(sorted(missing))}: as root, apt-get install -y {packages}"
            + ("" if allow_install else " (--no-install given)")
        )
    return problems
