"""Write and hash a stream on a second core while the first receives it.

The request's event loop hands each chunk over and moves on; a thread writes it to its file (``sink``)
and feeds the hasher (file writes, and sha256 in libcrypto or hashlib on large buffers, run without the
GIL). Small bodies never start the thread: chunks are written and hashed inline until the stream
reaches ``THREAD_THRESHOLD`` bytes, whatever the server's chunk size (granian hands over up to 400 KiB,
uvicorn 64 KiB). The queue is
bounded, so a thread that falls behind slows the sender instead of growing memory; a write that failed
is raised by the next ``update`` (the sender stops early) and by ``finish``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from registry_impl.digests import Hasher

#: Below this many bytes in all the thread is not worth starting.
THREAD_THRESHOLD = 256 * 1024
QUEUE_CHUNKS = 16


class HashPipe:
    """Feeds each chunk to ``sink`` (when given), then to ``hasher``, in order."""

    def __init__(self, hasher: Hasher, sink: Callable[[bytes], object] | None = None) -> None:
        self.hasher = hasher
        self._sink = sink
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._inline = 0

    def update(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        if self._queue is None:
            self._inline += len(data)
            if self._inline < THREAD_THRESHOLD:
                self._consume(data)
                return
            self._start()
        assert self._queue is not None
        self._queue.put(data)

    def _consume(self, data: bytes) -> None:
        if self._sink is not None:
            self._sink(data)
        self.hasher.update(data)

    def _start(self) -> None:
        self._queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._thread = threading.Thread(target=self._run, name="upload-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._consume(chunk)
                except BaseException as exc:  # reported by update() and finish()
                    self._error = exc

    def finish(self) -> Hasher:
        """Wait until every chunk is written and hashed; the hasher then holds the whole stream."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None
        if self._error is not None:
            raise self._error
        return self.hasher
