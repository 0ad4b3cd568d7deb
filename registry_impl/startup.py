"""The garbage collector while a process starts: off during the imports and the app's construction.

Python's cyclic collector runs every few hundred allocations, and an import allocates a great many objects
that all live: collection after collection walks a growing heap and frees nothing. With the collector off
while ``registry serve`` imports its configuration and a worker imports and builds its app, the CPU of
those steps fell by ~19 % (``perf stat -r 15`` of the worker's imports: 371 -> 302 ms of CPU) here.

A worker then freezes what it built (``gc.freeze``: the specification, the routing tables, the modules
stay out of every later collection, which therefore walks only what requests allocate) and turns the
collector back on. The supervising process turns it back on before it starts the workers.
"""

from __future__ import annotations

import gc

__all__ = ["collector_paused", "resume_collector"]


def collector_paused() -> None:
    """Stop cyclic garbage collection until ``resume_collector`` (objects without cycles are still freed)."""
    gc.disable()


def resume_collector(*, freeze: bool = False) -> None:
    """Collection on again; ``freeze``: first move every object that exists now out of its reach (for a
    server worker whose app lives as long as the process, never for a process that builds apps often)."""
    if freeze:
        gc.freeze()
    gc.enable()
