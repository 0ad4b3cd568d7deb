"""The request handlers, one module per route entity; ``handler_for`` resolves a short operationId.

The published document names operations only (``get_manifest``); which module implements one is
found here, by looking the name up among the public coroutine functions of the handler modules,
each of which must be unique.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

__all__ = ["handler_for", "handlers"]

Handler = Callable[..., Any]


@cache
def handlers() -> Mapping[str, Handler]:
    """Every public coroutine function of the handler modules, by name."""
    found: dict[str, Handler] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, value in vars(module).items():
            if (
                inspect.iscoroutinefunction(value)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                if name in found:
                    raise ValueError(f"two handlers are called {name}")
                found[name] = value
    return found


def handler_for(operation_id: str) -> Handler:
    """The handler of ``operation_id`` (``ValueError`` when there is none)."""
    try:
        return handlers()[operation_id]
    except KeyError:
        raise ValueError(f"no handler for operationId {operation_id!r}") from None
