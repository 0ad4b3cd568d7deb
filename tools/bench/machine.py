"""What a run ran on: the date, CPUs, kernel, Python, and the medium under a data directory (tmpfs or disk).

The medium is read from ``/proc/mounts`` (the longest mount point that holds the directory): its file system
type names it, ``tmpfs`` for memory-backed ones and ``disk`` for the rest, with the device beside it.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

MEMORY_BACKED = frozenset({"tmpfs", "ramfs"})


def mount_of(directory: Path, mounts: str | None = None) -> tuple[str, str, str]:
    """(mount point, file system type, device) of the mount holding ``directory`` (``mounts``: /proc/mounts)."""
    target = str(directory.resolve())
    best = ("/", "unknown", "unknown")
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text()
        except OSError:
            return best
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        device, point, kind = fields[0], fields[1].replace("\\040", " "), fields[2]
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best[0]):
            best = (point, kind, device)
    return best


def medium(directory: Path, mounts: str | None = None) -> dict[str, str]:
    """``{"label": "tmpfs" | "disk", "description": ..., "data_dir": ...}`` for a data directory."""
    point, kind, device = mount_of(directory, mounts)
    label = "tmpfs" if kind in MEMORY_BACKED else "disk"
    where = f"{kind} on {device}" if label == "disk" else kind
    return {"label": label, "description": f"{where}, mounted at {point}", "data_dir": str(directory)}


def describe() -> dict[str, Any]:
    """The machine, for the header of a report."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
