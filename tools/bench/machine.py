"""What a run ran on: the date, CPUs, kernel, Python, and the medium under a data directory (tmpfs or disk);
and the memory warm-up made before the runs.

The medium is read from ``/proc/mounts`` (the longest mount point that holds the directory): its file system
type names it, ``tmpfs`` for memory-backed ones and ``disk`` for the rest, with the device beside it.

**Memory warm-up.** These virtual machines run with free page reporting (the kernel's "Free page reporting
enabled"; ``page_reporting.page_reporting_order=11``): free memory in 8 MiB blocks is handed back to the host
within seconds, and a page handed back costs a hypervisor fault the next time it is written. On the fresh
2-core machine of 2026-12-04, ``dd`` of 3 GiB into /dev/shm ran at 295-370 MB/s into such memory and at
1.6-2.6 GB/s into memory freed a moment before, and an 8 GiB write-and-free ahead of a whole run ran at
~420 MB/s minutes after 21 GiB had been written and freed: warming once does not last. A push onto tmpfs
(or into the page cache) therefore measured, besides the registry, how many of the pages it wrote had been
handed back, which was left to chance and fell unequally on the two registries (the reference's monolithic
push on tmpfs measured 205-306 MiB/s over six runs of that afternoon, ours 490-814). ``warm_memory``, run right
before each timed push (``--warm-memory``), writes and frees a file on tmpfs, so that the push's writes take
pages the machine has just touched (the kernel hands out recently freed pages first; handing them back waits
a few seconds).

**One writer per CPU.** Written from the bench's one thread, the warm-up left ours' monolithic push on tmpfs
slow at the start of a round (2026-12-05, the bench's own sequence through round 1 then ours' pushes, four
runs: round 2's first push 401, 456, 846 and 477 MiB/s, 417 and 468 elsewhere in round 1, the pushes right
after the slow ones 846-938), with the warm-up itself at ~2 000 MiB/s and ``perf`` putting 55 % of the worker
in the kernel's copy into tmpfs pages. Why is inferred, not traced: a page freed is kept first on the freeing
CPU's own list, and the server's writes run on either CPU. Written half from each CPU (a thread pinned to
each, each freeing its own file), the same sequence measured every one of ours' pushes at 754-986 MiB/s in
two runs, the reference's 287-315 as before.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from pathlib import Path
from typing import Any

MEMORY_BACKED = frozenset({"tmpfs", "ramfs"})
_WARM_WRITE = 16 << 20  # bytes per write() of the warm-up file


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


def _available_memory() -> int:
    """MemAvailable from /proc/meminfo, in bytes (0 when unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def warm_memory(size: int, directory: Path = Path("/dev/shm")) -> dict[str, Any] | None:
    """Write ``size`` bytes to files on the tmpfs ``directory`` and remove them, a share from a thread pinned to
    each CPU this process may run on (see the module's docstring); what was done (``{"bytes", "seconds",
    "mib_per_s", "directory", "cpus"}``), or None when nothing was: no size, no writable tmpfs there, or less
    than twice ``size`` of memory available or of room on it."""
    if size <= 0 or not directory.is_dir() or not os.access(directory, os.W_OK):
        return None
    if mount_of(directory)[1] not in MEMORY_BACKED:
        return None
    room = min(_available_memory(), os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize)
    if room < 2 * size:
        return None
    cpus = sorted(os.sched_getaffinity(0))
    shares = [size // len(cpus) + (1 if index < size % len(cpus) else 0) for index in range(len(cpus))]
    written = [0] * len(cpus)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            os.sched_setaffinity(0, {cpus[index]})  # this thread only
            written[index] = _write_and_free(
                directory / f"registry-bench-warm-{os.getpid()}-{index}", shares[index]
            )
        except BaseException as exc:  # raised by the caller's thread below
            errors.append(exc)

    started = time.monotonic()
    writers = [
        threading.Thread(target=write, args=(index,), name="warm-memory") for index in range(len(cpus))
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    if errors:
        raise errors[0]
    seconds = time.monotonic() - started
    total = sum(written)
    return {
        "bytes": total,
        "seconds": round(seconds, 2),
        "mib_per_s": round(total / (1 << 20) / max(seconds, 1e-9)),
        "directory": str(directory),
        "cpus": len(cpus),
    }


def _write_and_free(path: Path, size: int) -> int:
    """Write ``size`` zero bytes to a new file at ``path``, then remove it; the bytes written."""
    block = bytes(min(_WARM_WRITE, size))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written = 0
    try:
        while written < size:
            written += os.write(fd, block[: min(_WARM_WRITE, size - written)])
    finally:
        os.close(fd)
        path.unlink()
    return written
