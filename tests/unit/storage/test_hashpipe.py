"""The hash pipe gives the same digest as hashing inline, for small and large chunks alike."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time

import pytest

from registry_impl.storage.hashpipe import BATCH, QUEUE_CHUNKS, THREAD_THRESHOLD, HashPipe


@pytest.mark.parametrize(
    "sizes", [[10, 20], [THREAD_THRESHOLD] * 40, [5, THREAD_THRESHOLD + 1, 7, 3 * THREAD_THRESHOLD]]
)
def test_same_digest_as_inline(sizes: list[int]) -> None:
    chunks = [os.urandom(size) for size in sizes]
    pipe = HashPipe(hashlib.sha256())
    for chunk in chunks:
        pipe.update(chunk)
    assert pipe.finish().hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert pipe.finish().hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()  # idempotent


def test_small_bodies_start_no_thread() -> None:
    pipe = HashPipe(hashlib.sha256())
    pipe.update(b"x" * 100)
    assert pipe._stages is None


class _Broken:
    def update(self, data: bytes) -> None:
        raise RuntimeError("hasher failed")

    def hexdigest(self) -> str:
        return ""


def test_a_failing_hasher_is_reported_by_finish() -> None:
    pipe = HashPipe(_Broken())  # type: ignore[arg-type]
    pipe.update(b"x" * THREAD_THRESHOLD)
    with pytest.raises(RuntimeError, match="hasher failed"):
        pipe.finish()


@pytest.mark.parametrize("sizes", [[10, 20], [BATCH] * 8, [5, BATCH + 1, 7]])
def test_sink_gets_every_chunk_in_order_before_finish_returns(sizes: list[int]) -> None:
    chunks = [os.urandom(size) for size in sizes]
    written: list[bytes] = []
    pipe = HashPipe(hashlib.sha256(), written.append)
    for chunk in chunks:
        pipe.update(chunk)
    assert pipe.finish().hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert written == chunks


def test_a_failing_sink_stops_the_sender_and_is_reported_by_finish() -> None:
    def full(data: bytes) -> None:
        raise OSError(28, "No space left on device")

    pipe = HashPipe(hashlib.sha256(), full)
    pipe.update(b"x" * THREAD_THRESHOLD)  # handed to the thread, which fails on it
    with pytest.raises(OSError, match="No space"):
        for _ in range(1000):  # the next update raises once the thread has failed
            pipe.update(b"x" * THREAD_THRESHOLD)
    with pytest.raises(OSError, match="No space"):
        pipe.finish()


def test_small_chunks_are_gathered_before_they_are_handed_over() -> None:
    chunks = [os.urandom(64 * 1024) for _ in range(21)]  # uvicorn's chunk size
    written: list[bytes] = []
    pipe = HashPipe(hashlib.sha256(), written.append)
    for chunk in chunks:
        pipe.update(chunk)
    assert pipe.finish().hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert b"".join(written) == b"".join(chunks)
    assert all(len(batch) >= BATCH for batch in written[3:-1])  # inline until the threshold, then batches


def test_a_forked_child_starts_its_own_threads() -> None:
    pipe = HashPipe(hashlib.sha256())
    pipe.update(b"x" * THREAD_THRESHOLD)  # a stage thread, back in the pool after finish
    pipe.finish()
    pid = os.fork()
    if pid == 0:  # the child: the parent's pooled thread is not here
        try:
            child = HashPipe(hashlib.sha256())
            for _ in range(QUEUE_CHUNKS + 2):
                child.update(b"y" * THREAD_THRESHOLD)
            ok = (
                child.finish().hexdigest()
                == hashlib.sha256(b"y" * THREAD_THRESHOLD * (QUEUE_CHUNKS + 2)).hexdigest()
            )
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 20
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child hung handing chunks to a thread it does not have")
    assert os.waitstatus_to_exitcode(done[1]) == 0


class _Gated:
    """A hasher whose ``update`` waits for ``gate``: the hash stage lags the writes for as long as a test says."""

    def __init__(self) -> None:
        self.inner = hashlib.sha256()
        self.gate = threading.Event()

    def update(self, data: bytes) -> None:
        self.gate.wait(10)
        self.inner.update(data)

    def hexdigest(self) -> str:
        return self.inner.hexdigest()


def test_writing_ends_before_the_hash_and_the_next_stream_hashes_after_it() -> None:
    hasher = _Gated()
    first, second = os.urandom(3 * BATCH), os.urandom(2 * BATCH)
    written: list[bytes] = []
    pipe = HashPipe(hasher, written.append)  # type: ignore[arg-type]
    pipe.update(first)
    hashed = pipe.finish_writing()  # the writes are done; the hash has not taken a byte
    assert b"".join(written) == first and not hashed.done
    follow = HashPipe(hasher, written.append, after=hashed)  # type: ignore[arg-type]
    follow.update(b"x")  # small, but the hash before it is running: not hashed inline, on this thread
    follow.update(second)
    hasher.gate.set()
    assert follow.finish().hexdigest() == hashlib.sha256(first + b"x" + second).hexdigest()
    assert hashed.done and hashed.error is None
    assert b"".join(written) == first + b"x" + second


def test_a_stream_with_no_bytes_after_a_running_hash_waits_for_it() -> None:
    hasher = _Gated()
    pipe = HashPipe(hasher, [].append)  # type: ignore[arg-type]
    pipe.update(b"y" * BATCH)
    hashed = pipe.finish_writing()
    assert HashPipe(hasher, after=hashed).finish_writing() is hashed  # nothing to add: the same end
    hasher.gate.set()
    assert HashPipe(hasher, after=hashed).finish().hexdigest() == hashlib.sha256(b"y" * BATCH).hexdigest()


class _GatedBroken(_Gated):
    def update(self, data: bytes) -> None:
        self.gate.wait(10)
        raise RuntimeError("hasher failed")


def test_a_failed_hash_fails_the_streams_after_it() -> None:
    hasher = _GatedBroken()
    pipe = HashPipe(hasher, [].append)  # type: ignore[arg-type]
    pipe.update(b"x" * BATCH)
    hashed = pipe.finish_writing()  # answered: the writes are done, the hash has not failed yet
    hasher.gate.set()
    assert isinstance(hashed.wait(), RuntimeError)
    follow = HashPipe(_Broken(), after=hashed)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="hasher failed"):
        follow.update(b"z")  # the hash before it is done (failed): inline, and refused


def test_end_writing_calls_back_from_the_sink_thread_once_every_chunk_is_written() -> None:
    hasher = _Gated()  # the hash is held back: the call back must not wait for it
    data = os.urandom(3 * BATCH)
    sink_gate = threading.Event()
    written: list[bytes] = []
    ended: list[tuple[int, str]] = []

    def slow_sink(chunk: bytes) -> None:
        sink_gate.wait(10)
        written.append(chunk)

    pipe = HashPipe(hasher, slow_sink)  # type: ignore[arg-type]
    pipe.update(data)
    assert pipe.end_writing(lambda: ended.append((len(b"".join(written)), threading.current_thread().name)))
    time.sleep(0.05)
    assert ended == []  # the sink still holds the bytes back
    sink_gate.set()
    deadline = time.monotonic() + 10
    while not ended and time.monotonic() < deadline:
        time.sleep(0.001)
    assert ended == [(len(data), "upload-pipe")]
    hashed = pipe.finish_writing()  # nothing of the writes left to wait for; the hash still gated
    assert not hashed.done
    hasher.gate.set()
    assert hashed.wait() is None
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def test_end_writing_without_a_thread_has_nothing_to_wait_for() -> None:
    written: list[bytes] = []
    pipe = HashPipe(hashlib.sha256(), written.append)
    pipe.update(b"small")  # written inline
    assert pipe.end_writing(lambda: pytest.fail("called back with nothing to write")) is False
    assert pipe.finish_writing().done and written == [b"small"]


def test_a_write_that_failed_after_end_writing_is_raised_by_finish_writing() -> None:
    ended = threading.Event()

    def full(data: bytes) -> None:
        raise OSError(28, "No space left on device")

    pipe = HashPipe(hashlib.sha256(), full)
    pipe.update(b"x" * THREAD_THRESHOLD)
    assert pipe.end_writing(ended.set)
    assert ended.wait(10)  # called back all the same: the writes are over
    with pytest.raises(OSError, match="No space"):
        pipe.finish_writing()
