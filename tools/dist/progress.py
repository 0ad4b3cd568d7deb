"""Transfer progress on stderr: one line per layer (bytes, rate) on a terminal, a line per blob otherwise,
JSON events with ``--json``, nothing when quiet.

:func:`make_progress` picks the kind: :class:`RichProgress` (``rich``, the ``dist`` extra) on a terminal, the plain
:class:`Progress` elsewhere or when ``rich`` is absent, :class:`JsonEvents` for scripts. Thread-safe: worker threads report bytes (negative when an upload resumes from an earlier offset). ``cancel``
makes the next report raise :class:`Cancelled`, which is how a failed copy stops its other transfers.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["Cancelled", "JsonEvents", "Progress", "RichProgress", "human_size", "make_progress"]


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

    def task(self, what: str, size: int) -> Callable[[int], None]:
        """The byte counter of one blob (one progress line on a terminal)."""
        return self.advance

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


class JsonEvents(Progress):
    """One JSON object per line on stderr: ``begin``, ``blob`` (digest, outcome, size), ``message``, ``end``."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream, quiet=True)

    def _event(self, **fields: Any) -> None:
        with self._lock:
            self.stream.write(json.dumps(fields) + "\n")
            self.stream.flush()

    def begin(self, label: str, total: int, items: int) -> None:
        super().begin(label, total, items)
        self._event(event="begin", label=label, bytes=total, items=items)

    def item(self, what: str, outcome: str, size: int) -> None:
        super().item(what, outcome, size)
        self._event(event="blob", digest=what, outcome=outcome, size=size)

    def message(self, text: str) -> None:
        self._event(event="message", text=text)

    def end(self) -> None:
        self._event(event="end", bytes=self.done, seconds=round(self.elapsed, 3))


class RichProgress(Progress):
    """A ``rich`` display: one line per blob with its bytes, rate and outcome, and a total line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream, quiet=False)
        from rich import progress as rp
        from rich.console import Console

        self.tty = False  # the plain bar never draws: rich does
        self._display = rp.Progress(
            rp.TextColumn("{task.description}"),
            rp.BarColumn(bar_width=24),
            rp.DownloadColumn(binary_units=True),
            rp.TransferSpeedColumn(),
            console=Console(file=self.stream),
            transient=False,
        )
        self._tasks: dict[str, Any] = {}
        self._total: Any = None

    def begin(self, label: str, total: int, items: int) -> None:
        super().begin(label, total, items)
        self._display.start()
        self._total = self._display.add_task(label, total=total)

    def task(self, what: str, size: int) -> Callable[[int], None]:
        task_id = self._display.add_task(what[:19], total=size)
        self._tasks[what] = task_id

        def advance(n: int) -> None:
            self.advance(n)
            self._display.advance(task_id, n)
            self._display.advance(self._total, n)

        return advance

    def item(self, what: str, outcome: str, size: int) -> None:
        with self._lock:
            self.finished += 1
        task_id = self._tasks.get(what)
        if task_id is not None:
            self._display.update(task_id, description=f"{what[:19]} {outcome}", completed=size)

    def message(self, text: str) -> None:
        self._display.console.print(text, highlight=False)

    def end(self) -> None:
        self._display.stop()


def make_progress(*, quiet: bool = False, events: bool = False, stream: TextIO | None = None) -> Progress:
    """JSON events with ``events``; silence with ``quiet``; rich on a terminal when installed; else plain lines."""
    stream = stream or sys.stderr
    if events:
        return JsonEvents(stream)
    if quiet or not stream.isatty():
        return Progress(stream, quiet=quiet)
    try:
        return RichProgress(stream)
    except ImportError:
        return Progress(stream)
