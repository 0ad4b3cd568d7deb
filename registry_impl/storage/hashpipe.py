"""Write and hash a stream on other cores while the request's event loop receives it.

The event loop hands each chunk over and moves on: one thread writes it to its file (``sink``), another
feeds the hasher, side by side (file writes, and sha256 in libcrypto or hashlib on large buffers, run
without the GIL), so the slowest stage is the hash alone (~0.6 CPU-s/GiB) rather than write plus hash.
Small bodies never start the threads: chunks are written and hashed inline until the stream reaches
``THREAD_THRESHOLD`` bytes, whatever the server's chunk size (granian hands over up to 1 MiB, uvicorn
64 KiB); smaller chunks are then gathered to ``BATCH`` bytes, so a hand-over costs the same per byte on
every server. The queues are bounded (``QUEUE_CHUNKS`` hand-overs, each a server's chunk or a batch: at most
4 MiB), so a stage that falls behind slows the sender instead of growing memory; a stage that failed (a write:
disk full) is raised by the next ``update`` (the sender stops early) and by ``finish``.

``finish_writing`` ends a stream without waiting for its hashing: an upload chunk is acknowledged once its
bytes are written, while the hash, which lags the writes by up to a queue of chunks, completes on its own
thread (``Hashed``). ``end_writing`` lets an event loop wait for the writes without blocking: the sink's own
thread calls back once it has written the last chunk, and ``finish_writing`` then waits for nothing. The next stream of the same hasher is given that ``Hashed`` as ``after``: its hash stage
waits for it before taking a byte, so one session's hashing runs on across its requests in order.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable

from registry_impl.digests import Hasher
from registry_impl.hashstate import ResumableSha256
from registry_impl.memory import keep_heap_for_uploads

#: Below this many bytes in all the threads are not worth starting.
THREAD_THRESHOLD = 256 * 1024
#: Chunks smaller than this are gathered up to it before they are handed over (granian's, up to 1 MiB, mostly
#: pass as they come: gathering them would copy each once more).
BATCH = 512 * 1024
#: Hand-overs a stage's queue holds: 16 of granian's 408 KiB chunks measured no faster than 4 of its 1 MiB
#: ones (tmpfs pushes, alternated), with ~10 MiB more resident during a push.
QUEUE_CHUNKS = 4
#: Idle stage threads kept for the next large body.
IDLE = 8


class Hashed:
    """The end of a stream's hashing, which may come after its writing: set (with the hash stage's error, if
    any) once the hasher has taken every byte of the stream, and of every stream before it."""

    def __init__(self, error: BaseException | None = None, *, done: bool = False) -> None:
        self.error = error
        self._done = threading.Event()
        if done:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def finished(self, error: BaseException | None) -> None:
        self.error = error
        self._done.set()

    def wait(self) -> BaseException | None:
        """Block until the hashing is complete; its error, if it failed (the hasher is then unusable)."""
        self._done.wait()
        return self.error


class _End:
    """A stage's last item when nobody waits for it: ``then(error)`` runs on the stage's thread once every
    chunk before it is consumed."""

    __slots__ = ("then",)

    def __init__(self, then: Callable[[BaseException | None], None]) -> None:
        self.then = then


class _Stage:
    """One consumer thread with its bounded queue; the first error it meets is kept in ``error``.

    Threads outlive their streams: a stopped stage returns to a pool of idle ones (at most ``IDLE``) that
    the next large body takes, so a PATCH does not pay for starting and joining two threads.
    """

    _idle: list[_Stage] = []
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.consume: Callable[[bytes], object] | None = None
        self.queue: queue.Queue[bytes | _End | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self.error: BaseException | None = None
        self._drained = threading.Event()
        threading.Thread(target=self._run, name="upload-pipe", daemon=True).start()

    @classmethod
    def take(cls, consume: Callable[[bytes], object]) -> _Stage:
        with cls._lock:
            stage = cls._idle.pop() if cls._idle else None
        stage = stage or cls()
        stage.consume, stage.error = consume, None
        return stage

    def _run(self) -> None:
        while True:
            chunk = self.queue.get()
            if chunk is None:  # the end of a stream
                self._drained.set()
                if self.consume is None:
                    return  # not taken back into the pool
                continue
            if isinstance(chunk, _End):  # the end of a stream nobody waits for: this thread retires the stage
                with contextlib.suppress(BaseException):  # a failing callback must not take the thread along
                    chunk.then(self.error)
                if not self._retire():
                    return
                continue
            if self.error is None and self.consume is not None:
                try:
                    self.consume(chunk)
                except BaseException as exc:  # reported by HashPipe.update() and finish()
                    self.error = exc

    def stop(self) -> BaseException | None:
        """Wait until every chunk handed over is consumed; the error met, if any. The stage must not be
        used afterwards: its thread goes back to the pool (or ends)."""
        self.queue.put(None)
        self._drained.wait()
        self._drained.clear()
        error = self.error
        if not self._retire():
            self.queue.put(None)  # ends the thread
        return error

    def end(self, then: Callable[[BaseException | None], None]) -> None:
        """End the stream without waiting: ``then(error)`` runs on the stage's thread after its last chunk,
        and the stage goes back to the pool (or ends). The stage must not be used afterwards."""
        self.queue.put(_End(then))

    def _retire(self) -> bool:
        """Back into the pool (True), or marked to end when the pool is full (False)."""
        with self._lock:
            if len(self._idle) < IDLE:
                self.consume = _idle_consumer
                self._idle.append(self)
                return True
        self.consume = None
        return False


def _idle_consumer(chunk: bytes) -> None:
    raise AssertionError("an idle pipe stage was handed a chunk")


# A forked child has none of its parent's threads: it must not take their stages from the pool.
os.register_at_fork(after_in_child=_Stage._idle.clear)


class HashPipe:
    """Feeds each chunk, in order, to ``sink`` (when given) and to ``hasher``.

    ``after``: the hashing of the bytes before this stream, still running (``finish_writing`` of the previous
    pipe of this hasher); the hash stage waits for it. ``snapshot`` then holds the hasher's state after the
    last chunk it finished (``(bytes hashed, marshaled state)``, for a hasher that can marshal), so a state
    can be saved before the hash has caught up.
    """

    def __init__(
        self, hasher: Hasher, sink: Callable[[bytes], object] | None = None, *, after: Hashed | None = None
    ) -> None:
        self.hasher = hasher
        self._sink = sink
        self._after = after
        self._marshals = hasher if isinstance(hasher, ResumableSha256) else None
        self.snapshot: tuple[int, bytes] | None = None
        self._stages: list[_Stage] | None = None
        self._inline = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._error: BaseException | None = None
        self._write_error: BaseException | None = None  # the sink's, once its stage ended (``end_writing``)

    def update(self, data: bytes) -> None:
        if self._stages is None:
            self._inline += len(data)
            after = self._after
            if self._inline < THREAD_THRESHOLD and (after is None or after.done):
                self._consume(data)
                return
            self._start()
        self._raise_failed()
        if len(data) >= BATCH and not self._pending:
            self._hand_over(data)
            return
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= BATCH:
            self._hand_over_pending()

    def _consume(self, data: bytes) -> None:
        if self._sink is not None:
            self._sink(data)
        self._hash(data)

    def _hash(self, data: bytes) -> None:
        after = self._after
        if after is not None:  # the bytes before this stream first
            error = after.wait()
            if error is not None:
                raise error
            self._after = None
        self.hasher.update(data)
        if self._marshals is not None:
            self.snapshot = (self._marshals.length, self._marshals.marshal())

    def _start(self) -> None:
        keep_heap_for_uploads()  # the next request of a chunked push reuses the heap this one frees
        self._stages = [_Stage.take(self._hash)]
        if self._sink is not None:
            self._stages.append(_Stage.take(self._sink))

    def _hand_over(self, data: bytes) -> None:
        assert self._stages is not None
        for stage in self._stages:
            stage.queue.put(data)

    def _hand_over_pending(self) -> None:
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        self._hand_over(data)

    def _raise_failed(self) -> None:
        for stage in self._stages or ():
            if stage.error is not None:
                raise stage.error

    def end_writing(self, then: Callable[[], None]) -> bool:
        """Hand every chunk over and end the sink's stage without waiting for it: ``then()`` runs on the
        sink's thread once it has written the last chunk. False when nothing is left to write (no sink
        thread runs: ``then`` is not called). No ``update`` may follow; ``finish_writing`` or ``finish``
        then waits for nothing more of the writes, and raises a write that failed."""
        stages = self._stages
        if stages is None or self._sink is None:
            return False
        if self._pending:
            self._hand_over_pending()
        hashing, writing = stages
        self._stages = [hashing]

        def ended(error: BaseException | None) -> None:
            self._write_error = error
            then()

        writing.end(ended)
        return True

    def finish_writing(self) -> Hashed:
        """Wait until every chunk is written (raising a failed write, or a hash that already failed); the
        hashing completes on its own, and the answer says when."""
        if self._stages is None:
            after = self._after
            if after is not None and not after.done:  # an empty stream: the hashing is the previous one's
                return after
            self.finish()  # inline: hashed already
            return Hashed(done=True)
        if self._pending:
            self._hand_over_pending()
        hashing, *writing = self._stages
        self._stages = None
        hashed = Hashed()
        hashing.end(hashed.finished)
        errors = [error for error in [stage.stop() for stage in writing] if error is not None]
        if self._write_error is not None:
            errors.insert(0, self._write_error)
        if errors:
            self._error = errors[0]
            raise self._error
        if hashed.done and hashed.error is not None:
            raise hashed.error
        return hashed

    def finish(self) -> Hasher:
        """Wait until every chunk is written and hashed; the hasher then holds the whole stream."""
        if self._stages is None and self._after is not None:  # no chunk was hashed: the previous stream's end
            after, self._after = self._after, None
            self._error = self._error or after.wait()
        if self._stages is not None:
            if self._pending:
                self._hand_over_pending()
            stages, self._stages = self._stages, None
            errors = [error for error in [stage.stop() for stage in stages] if error is not None]
            if self._write_error is not None:
                errors.insert(0, self._write_error)
            self._error = errors[0] if errors else None
        if self._error is not None:
            raise self._error
        return self.hasher
