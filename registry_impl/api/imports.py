"""What connexion imports and the registry never uses, kept out of a worker's memory.

connexion 3.3 imports, when it is itself imported: Flask (for its ``FlaskApp``; the registry runs the
``AsyncApp``), ``requests`` (to fetch remote ``$ref`` documents; ``generated/openapi.yaml`` has none), httpx
(OAuth2 token introspection; the registry authenticates in its own middleware), Jinja (a specification file
rendered as a template; the registry hands over a parsed document), Starlette's test client (for
``App.test_client()``; it imports httpx, and httpx its command line: click, rich, pygments) and Starlette's
templates (for the Swagger UI middleware, which ``registry_impl.api.app`` leaves out: the web UI serves the
API documentation). Measured in a worker: ~17 MiB of resident memory and ~0.1 s of start-up for nothing.
``unused_dependencies_skipped`` is in force only while ``registry_impl.api.app`` imports connexion:

- ``flask`` and ``httpx._main`` read as not installed (``sys.modules[name] = None``), which both importers
  handle (connexion's ``FlaskFramework`` becomes its "install the flask extra" error; ``httpx.main`` a stub);
- ``httpx``, ``jinja2``, ``requests``, ``starlette.testclient`` and ``starlette.templating`` are stand-ins
  that import the real module on first use (an attribute read; ``TestClient`` or ``Jinja2Templates``
  called), and leave ``sys.modules`` afterwards, so any later import is the real one.

A package already imported (a test process, a tool) is left as it is.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["OnFirstUse", "unused_dependencies_skipped"]

SKIPPED = ("flask", "httpx._main")
#: Module -> the names its importers take from it with ``from module import name`` (called, never subclassed).
DEFERRED: dict[str, tuple[str, ...]] = {
    "httpx": (),
    "jinja2": (),
    "requests": (),
    "starlette.testclient": ("TestClient",),
    "starlette.templating": ("Jinja2Templates",),
}


class OnFirstUse(types.ModuleType):
    """A stand-in for the module ``name``: the first attribute read imports the real one; ``callables``
    are there already, each importing the real module when called."""

    def __init__(self, name: str, callables: tuple[str, ...] = ()) -> None:
        super().__init__(name)
        for attribute in callables:
            setattr(self, attribute, self._deferred(attribute))

    def _deferred(self, attribute: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self._real(), attribute)(*args, **kwargs)

        return call

    def _real(self) -> types.ModuleType:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return importlib.import_module(self.__name__)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system's own questions (``__path__``: a package?)
            raise AttributeError(attribute)
        return getattr(self._real(), attribute)


@contextmanager
def unused_dependencies_skipped() -> Iterator[None]:
    placed: dict[str, types.ModuleType | None] = {}
    for name in SKIPPED:
        if name not in sys.modules:
            placed[name] = sys.modules[name] = None  # type: ignore[assignment]
    for name, callables in DEFERRED.items():
        if name not in sys.modules:
            placed[name] = sys.modules[name] = OnFirstUse(name, callables)
    try:
        yield
    finally:
        for name, module in placed.items():
            if name in sys.modules and sys.modules[name] is module:
                del sys.modules[name]
