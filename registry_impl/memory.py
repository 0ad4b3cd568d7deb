"""glibc malloc settings for the server's processes: fewer arenas, and free memory handed back while idle;
more of it kept while uploads arrive (``keep_heap_for_uploads``).

Both measured with ``registry-bench``'s RSS rows on the default configuration (README, "Memory and start-up").
Nothing here runs unless the C library is glibc (``mallopt`` and ``malloc_trim`` exist).
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
import time
from functools import cache
from typing import Any

__all__ = [
    "MALLOC_ARENAS",
    "MMAP_THRESHOLD",
    "TRIM_INTERVAL",
    "TRIM_THRESHOLD",
    "UPLOAD_TRIM_THRESHOLD",
    "body_chunks_from_heap",
    "keep_heap_for_uploads",
    "limit_malloc_arenas",
    "lower_heap_after_upload",
    "release_after_walk",
    "trim_while_running",
]

MALLOC_ARENAS = 1
#: Allocations above this come from mmap (glibc's default: 128 KiB, raised as large blocks are freed).
MMAP_THRESHOLD = 2 << 20
#: Free memory above this at the top of the heap is handed back at once (glibc's default: 128 KiB, raised alike);
#: below it, ``trim_while_running`` hands it back within ``TRIM_INTERVAL``.
TRIM_THRESHOLD = 4 << 20
#: The trim threshold while uploads arrive (``keep_heap_for_uploads``).
UPLOAD_TRIM_THRESHOLD = 16 << 20
# glibc's mallopt parameter numbers (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
TRIM_INTERVAL = 0.5  # seconds between two malloc_trim calls of a worker


@cache
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
    While uploads arrive the trim threshold is higher (``keep_heap_for_uploads``).
    Left alone when the environment sets either threshold (``MALLOC_MMAP_THRESHOLD_``,
    ``MALLOC_TRIM_THRESHOLD_``) or the C library is not glibc; True when applied."""
    libc = _libc()
    if libc is None or any(os.environ.get(f"MALLOC_{name}_THRESHOLD_") for name in ("MMAP", "TRIM")):
        _heap.adjustable = False
        return False
    applied = bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)
    )
    _heap.adjustable, _heap.low, _heap.raised = applied, trim_threshold, False
    return applied


class _Heap:
    """The trim threshold this process set (``body_chunks_from_heap``, inherited by forked workers) and whether
    ``keep_heap_for_uploads`` raised it; ``last_upload``: ``time.monotonic()`` of the last large body."""

    def __init__(self) -> None:
        self.adjustable = False
        self.low = TRIM_THRESHOLD
        self.raised = False
        self.last_upload = 0.0


_heap = _Heap()


def keep_heap_for_uploads(libc: Any = None) -> None:
    """A large upload body starts: keep up to ``UPLOAD_TRIM_THRESHOLD`` of free heap rather than the usual
    ``TRIM_THRESHOLD``, until an upload completes or ``trim_while_running`` finds a whole interval without one.

    Each PATCH of a chunked push ends with every chunk it held freed, at the top of the heap; at a 4 MiB
    threshold glibc handed it back and the next PATCH faulted the same memory in again (7 % of the worker's
    CPU on tmpfs, ``perf``). Kept for every request instead (16 MiB from the start), a pull on tmpfs, whose 1 MiB
    reads are freed as granian sends them, peaked ~5 MiB higher (tree RSS 98-100 against 93-95 MiB in the
    bench), so the higher threshold lasts only while uploads arrive: until one completes
    (``lower_heap_after_upload``) or an interval passes without a large body. Chunked pushes of 128 MiB in
    8 MiB PATCHes, 3 alternated bench runs of the push and RSS scenarios each way (16 MiB for every request
    against 4 MiB): disk 2.32-2.52x -> 2.71-2.80x the reference, tmpfs 2.11-2.36x -> 2.25-2.42x. A no-op
    unless ``body_chunks_from_heap`` applied (an explicit ``MALLOC_TRIM_THRESHOLD_`` wins)."""
    heap = _heap
    heap.last_upload = time.monotonic()
    if heap.raised or not heap.adjustable:
        return
    libc = libc or _libc()
    if libc is not None:
        heap.raised = bool(libc.mallopt(M_TRIM_THRESHOLD, max(heap.low, UPLOAD_TRIM_THRESHOLD)))


def lower_heap_after_upload(libc: Any = None) -> None:
    """An upload completed: the usual trim threshold again, and what the upload left free handed back, at
    once rather than an interval later (the bench pulls the blob it just pushed, as clients often do: its peak
    RSS counted the push's free heap; a session still open raises the threshold again at its next body).
    ~0.2 ms with memory to hand back: call it off the event loop."""
    heap = _heap
    if heap.raised:
        heap.raised = False
        libc = libc or _libc()
        if libc is not None:
            libc.mallopt(M_TRIM_THRESHOLD, heap.low)
            libc.malloc_trim(0)


def _lower_after_uploads(libc: Any, now: float, interval: float) -> None:
    """Back to the usual trim threshold once no large upload body started for ``interval`` seconds."""
    heap = _heap
    if heap.raised and now - heap.last_upload >= interval:
        heap.raised = False
        libc.mallopt(M_TRIM_THRESHOLD, heap.low)


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
            _lower_after_uploads(libc, time.monotonic(), interval)
            libc.malloc_trim(0)  # ~0.2 ms with something to hand back, microseconds without

    thread = threading.Thread(target=run, name="malloc-trim", daemon=True)
    thread.start()
    _trimmer = (os.getpid(), thread)
    return thread


_trimmer: tuple[int, threading.Thread] | None = None


def release_after_walk() -> None:
    """After a pass over the whole storage tree (upload purging, online GC): a full collection, then
    ``malloc_trim``.

    A pass makes and drops tens of thousands of small tuples, lists and dicts; the interpreter keeps
    thousands of each on its free lists, scattered over pymalloc's arenas, and an arena holding one of
    them stays mapped. Only a full collection empties those lists (it found nothing unreachable: 0 objects,
    ~4 000 blocks). Measured on 10 000 repositories and a 2 000-tag repository: a worker's RSS after a
    purge pass 51.3 MiB against 44.2 without one; a process running the pass and then this, 30.1 -> 24.9
    MiB. ~10 ms of the GIL, once per pass."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
