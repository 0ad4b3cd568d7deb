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

__all__ = [
    "MALLOC_ARENAS",
    "MMAP_THRESHOLD",
    "TRIM_INTERVAL",
    "TRIM_THRESHOLD",
    "body_chunks_from_heap",
    "limit_malloc_arenas",
    "trim_while_running",
]

MALLOC_ARENAS = 1
#: Allocations above this come from mmap (glibc's default: 128 KiB, raised as large blocks are freed).
MMAP_THRESHOLD = 2 << 20
#: Free memory above this at the top of the heap is handed back at once (glibc's default: 128 KiB, raised alike);
#: below it, ``trim_while_running`` hands it back within ``TRIM_INTERVAL``.
TRIM_THRESHOLD = 16 << 20
# glibc's mallopt parameter numbers (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
TRIM_INTERVAL = 0.5  # seconds between two malloc_trim calls of a worker


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


def body_chunks_from_heap(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Request-body chunks (granian's reach 1 MiB, see ``server_options``) allocated from the heap and
    reused, not mapped and unmapped one by one, with at most ``trim_threshold`` of free heap kept between them.

    glibc maps each block above its mmap threshold afresh, and every page of it is faulted in and zeroed
    (the thread that copies a chunk into Python bytes spent a fifth of its time there); it raises that
    threshold when such a block is freed, but also lowers the heap's trim threshold to twice it, so the top
    of the heap was handed back and faulted in again chunk after chunk. Measured (granian, one worker, 128
    MiB pushes onto tmpfs, with the 1 MiB read buffer and 4 MiB pipe queues, 2 x 4 alternated pushes each
    way): monolithic 641-795 MiB/s against 513-710 before both, chunked (8 MiB PATCHes) 573-642 against
    529-600, the tree's peak RSS 101-102 against 101 MiB (by this measure; +0.8 MiB of heap idle). With the
    buffer and queues (3 x 5 pushes each way against the code before the three): server CPU-s/GiB 1.76 ->
    1.54 monolithic and 2.1 -> 1.75 chunked, 610 -> 750 and 560 -> 650 MiB/s.
    A trim threshold of 4 MiB still handed the heap back between two PATCHes of a chunked push (each ends with
    every chunk it held freed) and the next faulted it in again: 7 % of the server's CPU on tmpfs (``perf``).
    At 16 MiB (with ``trim_while_running`` every 0.5 s rather than 2 s, so an upload's memory still goes back
    soon after it), chunked pushes of 128 MiB in 8 MiB PATCHes, 3 alternated bench runs of the push and RSS
    scenarios each way: disk 2.32-2.52x -> 2.71-2.80x the reference, tmpfs 2.11-2.36x -> 2.25-2.42x; the
    tree's peak RSS during a push 96-100 MiB both ways.
    Left alone when the environment sets either threshold (``MALLOC_MMAP_THRESHOLD_``,
    ``MALLOC_TRIM_THRESHOLD_``) or the C library is not glibc; True when applied."""
    libc = _libc()
    if libc is None or any(os.environ.get(f"MALLOC_{name}_THRESHOLD_") for name in ("MMAP", "TRIM")):
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)
    )


def trim_while_running(interval: float = TRIM_INTERVAL) -> threading.Thread | None:
    """A daemon thread handing free heap memory back to the system every ``interval`` seconds
    (``malloc_trim``): a large upload or download leaves its chunks' memory free but resident until then.
    Measured (default configuration, the bench's requests after a 128 MiB push): tree RSS once they are
    served 95 -> 85 MiB; peaks during back-to-back transfers are what they hold meanwhile (unchanged within
    the noise). A call costs ~0.2 ms with memory to hand back: every 0.5 s, that is a hundredth of the page
    faults a chunked push paid with the heap handed back after each PATCH. One thread per process; None
    without glibc."""
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
