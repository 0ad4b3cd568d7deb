"""Transfer progress on stderr: one redrawn bar on a terminal, a line per blob otherwise, nothing when quiet.

Thread-safe: worker threads report bytes (negative when an upload resumes from an earlier offset). ``cancel``
makes the next report raise :class:`Cancelled`, which is how a failed copy stops its other transfers.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

__all__ = ["Cancelled", "Progress", "human_size"]


class Cancelled(Exception):
    """Another transfer of the same copy failed."""


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class Progress:
    """Counts bytes and finished items of one transfer."""

    WIDTH = 28

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = not quiet and self.stream.isatty()
        self.interval = interval
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self.total = self.done = self.items = self.finished = 0
        self.label = ""
        self._started = self._drawn = time.monotonic()

    def begin(self, label: str, total: int, items: int) -> None:
        with self._lock:
            self.label, self.total, self.items = label, total, items
            self.done = self.finished = 0
            self._started = time.monotonic()

    def advance(self, n: int) -> None:
        if self._cancelled.is_set():
            raise Cancelled()
        with self._lock:
            self.done += n
            now = time.monotonic()
            if self.tty and now - self._drawn >= self.interval:
                self._drawn = now
                self._draw(now)

    def item(self, what: str, outcome: str, size: int) -> None:
        with self._lock:
            self.finished += 1
            if self.quiet:
                return
            if self.tty:
                self._draw(time.monotonic())
            else:
                self.stream.write(f"{outcome.capitalize()} {what} ({human_size(size)})\n")
                self.stream.flush()

    def message(self, text: str) -> None:
        if self.quiet:
            return
        with self._lock:
            self.stream.write(("\r\x1b[K" if self.tty else "") + text + "\n")
            self.stream.flush()

    def cancel(self) -> None:
        self._cancelled.set()

    def end(self) -> None:
        if self.tty:
            with self._lock:
                self._draw(time.monotonic())
                self.stream.write("\n")
                self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _draw(self, now: float) -> None:
        fraction = min(1.0, self.done / self.total) if self.total else 1.0
        filled = int(fraction * self.WIDTH)
        rate = self.done / max(now - self._started, 1e-6)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = (
            f"\r\x1b[K{self.label} [{bar}] {fraction * 100:3.0f}% "
            f"{human_size(self.done)}/{human_size(self.total)} {human_size(rate)}/s "
            f"{self.finished}/{self.items}"
        )
        self.stream.write(line)
        self.stream.flush()
