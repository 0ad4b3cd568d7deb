"""Hash a stream on a second core while the first receives and writes it.

The request's event loop hands each chunk over and moves on; a thread feeds the hasher (sha256
in libcrypto or hashlib runs without the GIL on large buffers). Small bodies never start the
thread. The queue is bounded, so a hasher that falls behind slows the sender instead of growing
memory.
"""

from __future__ import annotations

import queue
import threading

from registry_impl.digests import Hasher

#: Below this many bytes in one chunk the thread is not worth starting.
THREAD_THRESHOLD = 256 * 1024
QUEUE_CHUNKS = 16


class HashPipe:
    def __init__(self, hasher: Hasher) -> None:
        self.hasher = hasher
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def update(self, data: bytes) -> None:
        if self._queue is None:
            if len(data) < THREAD_THRESHOLD:
                self.hasher.update(data)
                return
            self._start()
        assert self._queue is not None
        self._queue.put(data)

    def _start(self) -> None:
        self._queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._thread = threading.Thread(target=self._run, name="upload-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.hasher.update(chunk)
                except BaseException as exc:  # reported by finish()
                    self._error = exc

    def finish(self) -> Hasher:
        """Wait until every chunk is hashed; the hasher then holds the whole stream."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None
        if self._error is not None:
            raise self._error
        return self.hasher
