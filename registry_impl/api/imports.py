"""What connexion imports and the registry never uses, kept out of a worker's memory.

connexion 3.3 imports, when it is itself imported: Flask (for its ``FlaskApp``; the registry runs the
``AsyncApp``), ``requests`` (to fetch remote ``$ref`` documents; ``generated/openapi.yaml`` has none), and
Starlette's test client, whose ``import httpx`` loads httpx's command line (click, rich, pygments). Measured
in a worker: ~12 MiB of resident memory and ~70 ms of start-up for nothing. ``unused_dependencies_skipped``
is in force only while ``registry_impl.api.app`` imports connexion:

- ``flask`` and ``httpx._main`` read as not installed (``sys.modules[name] = None``), which both importers
  handle (connexion's ``FlaskFramework`` becomes its "install the flask extra" error; ``httpx.main`` a stub);
- ``requests`` is a stand-in that imports the real package on first attribute access (a remote ``$ref``),
  and leaves ``sys.modules``, so any later ``import requests`` is the real one.

A package already imported (a test process, a tool) is left as it is.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["OnFirstUse", "unused_dependencies_skipped"]

SKIPPED = ("flask", "httpx._main")
DEFERRED = ("requests",)


class OnFirstUse(types.ModuleType):
    """A stand-in for the module ``name``: the first attribute read imports the real one."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


@contextmanager
def unused_dependencies_skipped() -> Iterator[None]:
    placed: dict[str, types.ModuleType | None] = {}
    for name in SKIPPED:
        if name not in sys.modules:
            placed[name] = sys.modules[name] = None  # type: ignore[assignment]
    for name in DEFERRED:
        if name not in sys.modules:
            placed[name] = sys.modules[name] = OnFirstUse(name)
    try:
        yield
    finally:
        for name, module in placed.items():
            if name in sys.modules and sys.modules[name] is module:
                del sys.modules[name]
