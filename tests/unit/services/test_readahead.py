"""Reading a remote blob ahead of its response: every byte once and in order, a failed read raised after the bytes
before it, no read past ``depth`` chunks for a client that does not take them (and no worker thread held
meanwhile), and no reader closed under a read when the client goes away."""

from __future__ import annotations

import io
import os
import threading
import time

import anyio
import pytest

from registry_impl.services.offload import Offload
from registry_impl.services.readahead import read_ahead

pytestmark = pytest.mark.anyio

DATA = os.urandom(100_000)


class Recorded(io.BytesIO):
    """A reader over DATA that counts its reads, can fail at one, and can hold one until ``release`` is set."""

    def __init__(self, fail_at: int | None = None, hold_at: int | None = None) -> None:
        super().__init__(DATA)
        self.reads = 0
        self.fail_at, self.hold_at = fail_at, hold_at
        self.holding, self.release = threading.Event(), threading.Event()
        self.reading = False
        self.closed_while_reading = False

    def read(self, size: int | None = -1) -> bytes:
        self.reading = True
        try:
            self.reads += 1
            if self.reads == self.hold_at:
                self.holding.set()
                self.release.wait(5)
            if self.reads == self.fail_at:
                raise OSError("connection reset by the storage")
            return super().read(size)
        finally:
            self.reading = False

    def close(self) -> None:
        self.closed_while_reading = self.closed_while_reading or self.reading
        super().close()


async def collect(reader: Recorded, remaining: int, size: int, depth: int = 4) -> bytes:
    return b"".join(
        [chunk async for chunk in read_ahead(reader, remaining, Offload(True), size=size, depth=depth)]
    )


@pytest.mark.parametrize(
    ("remaining", "size"), [(100_000, 7_000), (100_000, 100_000), (33_333, 4_096), (0, 4_096)]
)
async def test_every_byte_once_and_in_order_then_the_reader_is_closed(remaining: int, size: int) -> None:
    reader = Recorded()
    assert await collect(reader, remaining, size) == DATA[:remaining]
    assert reader.closed


async def test_a_reader_that_ends_early_ends_the_stream_there() -> None:
    reader = Recorded()
    reader.seek(90_000)
    assert await collect(reader, 50_000, 4_096) == DATA[90_000:]


async def test_a_failed_read_is_raised_after_the_chunks_before_it() -> None:
    reader = Recorded(fail_at=5)
    received: list[bytes] = []
    with pytest.raises(OSError, match="connection reset"):
        async for chunk in read_ahead(reader, len(DATA), Offload(True), size=1_000, depth=4):
            received.append(chunk)
    assert b"".join(received) == DATA[:4_000]
    assert reader.closed


async def test_a_client_that_takes_nothing_holds_at_most_depth_chunks_and_no_thread() -> None:
    reader, offload = Recorded(), Offload(True, threads=2)
    stream = read_ahead(reader, len(DATA), offload, size=1_000, depth=4)
    first = await stream.__anext__()  # then the client stops reading
    await anyio.sleep(0.2)
    assert first == DATA[:1_000]
    assert reader.reads <= 4 + 1  # the chunk sent and at most ``depth`` waiting
    assert offload.limiter.borrowed_tokens == 0  # the pool is free: the call ended when the buffer filled
    rest = b"".join([chunk async for chunk in stream])
    assert first + rest == DATA


async def test_a_client_that_goes_away_mid_read_closes_the_reader_only_after_that_read() -> None:
    reader = Recorded(hold_at=3)
    stream = read_ahead(reader, len(DATA), Offload(True), size=1_000, depth=4)
    assert await stream.__anext__() == DATA[:1_000]
    assert await anyio.to_thread.run_sync(reader.holding.wait, 5)  # the third read is in flight, held
    threading.Timer(0.3, reader.release.set).start()
    started = time.monotonic()
    await stream.aclose()
    assert time.monotonic() - started >= 0.2  # it waited for the read in flight
    assert reader.closed and not reader.closed_while_reading
