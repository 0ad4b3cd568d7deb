"""How long the event loop went without running other work while a request was served in process."""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")


async def while_ticking(request: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    """The request's result, and the longest the event loop went without running a 5 ms ticker meanwhile."""
    ticks = [time.monotonic()]
    done = anyio.Event()

    async def tick() -> None:
        while not done.is_set():
            await anyio.sleep(0.005)
            ticks.append(time.monotonic())

    async with anyio.create_task_group() as group:
        group.start_soon(tick)
        result = await request()
        ticks.append(time.monotonic())  # a loop blocked throughout: one gap, the whole request
        done.set()
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    return result, max(gaps)
