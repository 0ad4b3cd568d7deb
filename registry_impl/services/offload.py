"""The one async boundary: the services (and the framework's body validation) call storage and CPU-heavy work
through here, and only here is it decided what runs in a worker thread.

The rule, by what a call is (the caller says which; this module decides where it runs):

- ``storage(fn)`` — a few quick storage calls (a stat, a link or small-file read or write, a cached listing,
  a claim): in a thread when the storage is remote (S3, or a Redis blob cache: every call is a blocking
  network round trip), inline on local storage, where they take microseconds (a manifest GET served from
  the cache measured ~55 µs of storage work against ~75 µs for a thread hop, on a request that costs ~130 µs
  of CPU in all: a hop would cut the hot reads in ``fastpath`` by a third or more, so they stay inline).
- ``sized(n, fn)`` — work whose CPU grows with a body of ``n`` bytes (a manifest's JSON parse, schema
  validation and digest: ~45 µs per descriptor): inline below ``INLINE_BYTES`` on local storage, in a
  thread otherwise.
- ``claiming(n, fn, busy)`` — ``sized`` work that takes blob claims, which another holder (online GC, or on
  S3 another writer) may have: it must not wait for one on the event loop, so inline it is called with
  ``claim_wait=0`` and a busy claim (``busy``, raised before it wrote anything) starts it over in a thread,
  where it waits. It writes durably (a manifest PUT: the manifest, its revision link, the tag), so where
  durable writes wait for a disk (``synced``: the filesystem driver with ``fsync`` on a root that is not in
  memory) it always runs in a thread: ~6 syncs and a few creations, 2-5 ms on this machine's ext4, would
  otherwise stop every other request of the process meanwhile.
- ``durable(fn)`` — a few storage calls that write durably (an upload session's start: its start time and
  empty data file, synced with their directories): inline like ``storage`` where a sync costs nothing, in a
  thread where it waits for a disk (``synced``).
- ``until_called(register)`` — the end of work already running on a thread of its own (an upload's
  writing thread): awaited on the event loop, woken by that thread, with no thread of the pool waiting.
  A PATCH's close on local storage waits so for the writes, then is ``durable`` (a flush, the data's sync,
  the hash state); a 1-byte PATCH measured 1.0 -> 0.7 ms through granian, 480 -> 245 µs in process.
- ``slow(fn)`` — work that can take long whatever the storage: an upload's writer (may re-hash the whole
  session), its close where it waits for the writing thread itself (remote storage, where a lost claim
  must stop the writes first) or for the hash (the last chunk), completion (re-hash, verification, the move into
  the blob store), its cancellation (freeing a large file: ~5 ms for 128 MiB on tmpfs), a referrers list
  (parses every referrer): always in a thread. A blob streamed from
  remote storage reads ahead in such calls, several reads each (``readahead``), never one waiting on a client.

Every thread comes from one bounded pool (``THREADS``): a stalled backend holds at most that many, and
the requests beyond them wait for a token without blocking the event loop. A thread call cannot be
cancelled halfway; a client that goes away is noticed when it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TypeVar, TypeVarTuple

import anyio
import anyio.to_thread

__all__ = ["INLINE_BYTES", "THREADS", "Offload"]

#: Worker threads per process for storage and CPU work.
THREADS = 32
#: Bodies below this many bytes are parsed and validated on the event loop (~25 descriptors, < 1 ms).
INLINE_BYTES = 4096

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class Offload:
    """Where storage and CPU work of one process runs; ``remote`` when any storage call is a network call,
    ``synced`` when a durable write waits for a disk."""

    def __init__(self, remote: bool, threads: int = THREADS, *, synced: bool = False) -> None:
        self.remote = remote
        self.threads = threads
        self.synced = synced  # durable writes wait for a disk
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made on first use: in the worker process, inside its event loop
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    async def storage(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """A few quick storage calls: inline on local storage, in a thread on remote storage."""
        return await self._thread(fn, *args) if self.remote else fn(*args)

    async def sized(self, size: int, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """Work proportional to a ``size``-byte body (and the storage calls around it)."""
        return await self._thread(fn, *args) if self.remote or size >= INLINE_BYTES else fn(*args)

    async def claiming(self, size: int, fn: Callable[..., T], busy: type[BaseException]) -> T:
        """``sized`` for work that may wait for a claim: ``fn()`` in a thread, or inline ``fn(claim_wait=0.0)``,
        which raises ``busy`` at once instead of waiting (and is then run in a thread after all); always in a
        thread where its durable writes wait for a disk."""
        if self.remote or self.synced or size >= INLINE_BYTES:
            return await self._thread(fn)
        try:
            return fn(claim_wait=0.0)
        except busy:
            return await self._thread(fn)

    async def durable(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """A few storage calls that sync what they write: in a thread where that waits for a disk."""
        return await self._thread(fn, *args) if self.remote or self.synced else fn(*args)

    async def slow(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """Work that can take long on any storage: always in a thread."""
        return await self._thread(fn, *args)

    async def shielded(self, fn: Callable[[], T], *, slow: bool = False, durable: bool = False) -> T:
        """``storage`` (or ``slow``, or ``durable``) that finishes even when the request is cancelled
        (releases, closes)."""
        with anyio.CancelScope(shield=True):
            if slow:
                result = await self.slow(fn)
            else:
                result = await (self.durable(fn) if durable else self.storage(fn))
        return result

    @staticmethod
    async def until_called(register: Callable[[Callable[[], None]], bool]) -> None:
        """Wait, shielded, for work already running on a thread of its own (not the pool's) to end:
        ``register(wake)`` arranges for that thread to call ``wake()`` at the end, or returns False when the
        work has ended already. The event loop is woken once; no thread of the pool waits meanwhile."""
        loop = asyncio.get_running_loop()
        ended = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(_resolve, ended)

        if register(wake):
            with anyio.CancelScope(shield=True):
                await ended

    async def _thread(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        return await anyio.to_thread.run_sync(partial(fn, *args), limiter=self.limiter)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
