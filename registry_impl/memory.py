"""glibc malloc settings for the server's processes: fewer arenas, and free memory handed back while idle.

Both measured with ``registry-bench``'s RSS rows on the default configuration (README, "Memory and start-up").
Nothing here runs unless the C library is glibc (``mallopt`` and ``malloc_trim`` exist).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from typing import Any

__all__ = ["MALLOC_ARENAS", "TRIM_INTERVAL", "limit_malloc_arenas", "trim_while_running"]

MALLOC_ARENAS = 1
M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
TRIM_INTERVAL = 2.0  # seconds between two malloc_trim calls of a worker


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most ``arenas`` glibc malloc arenas in this process and the workers forked from it, as
    ``MALLOC_ARENA_MAX`` does (which a forked worker would not read: glibc reads it when a process starts).

    glibc gives each thread that allocates its own arena, up to 8 per core; the upload hash pipe's and the
    storage offload's threads each kept the memory of the chunks they freed. Measured (granian, one worker,
    two 256 MiB pushes and pulls, 4 alternated starts): the tree's peak RSS during a pull 104-108 -> 95-98 MiB,
    after them 72-74 -> 61-63 MiB, CPU per GiB pushed and pulled unchanged within the noise. One arena rather
    than two (granian's runtime threads kept ~6 MiB of request-body buffers resident in the second one):
    the tree 3 s after four 128 MiB pushes and two chunked ones 90 -> 83 MiB (two alternated runs each),
    the peak and the throughput unchanged within the noise. Left alone when
    the environment sets ``MALLOC_ARENA_MAX`` or the C library is not glibc; True when applied."""
    libc = _libc()
    if os.environ.get("MALLOC_ARENA_MAX") or libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim_while_running(interval: float = TRIM_INTERVAL) -> threading.Thread | None:
    """A daemon thread handing free heap memory back to the system every ``interval`` seconds
    (``malloc_trim``): a large upload or download leaves its chunks' memory free but resident until then.
    Measured (default configuration, the bench's requests after a 128 MiB push): tree RSS once they are
    served 95 -> 85 MiB; peaks during back-to-back transfers are what they hold meanwhile (unchanged within
    the noise). A call costs ~0.2 ms with memory to hand back. One thread per process; None without glibc."""
    global _trimmer
    libc = _libc()
    if libc is None:
        return None
    if _trimmer is not None and _trimmer[0] == os.getpid() and _trimmer[1].is_alive():
        return _trimmer[1]  # one per process (a forked process has none of its parent's threads)

    def run() -> None:
        while True:
            time.sleep(interval)
            libc.malloc_trim(0)  # ~0.2 ms with something to hand back, microseconds without

    thread = threading.Thread(target=run, name="malloc-trim", daemon=True)
    thread.start()
    _trimmer = (os.getpid(), thread)
    return thread


_trimmer: tuple[int, threading.Thread] | None = None
