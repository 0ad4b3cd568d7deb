"""A request's query string, parsed once: a single-valued parameter given twice is refused, never chosen.

Authorization (``registry_impl.auth.scopes``), the fast read path and the handlers read query
parameters only through ``query_of(scope)``. It parses the scope's query string the first time
(the auth middleware, outermost, does so for every request under ``/v2``) and keeps the result in
the scope. A repeated parameter that the descriptor says takes one value (every query parameter not
marked ``repeatable``: ``mount``, ``from``, ``digest``, ``n``, ``last``) is refused with the code the
descriptor gives it, rather than resolved to its first or last value, so whoever reads one of them
sees the same value.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from urllib.parse import parse_qsl

from registry_spec.model import ErrorCode
from registry_spec.router import ROUTER
from starlette.types import Scope

from registry_impl.errors import RegistryError

__all__ = ["QUERY_KEY", "SINGLE_VALUED", "parse_query", "query_of"]

QUERY_KEY = "registry.query"


def _classes(base: type[RegistryError]) -> Iterator[type[RegistryError]]:
    for cls in base.__subclasses__():
        yield cls
        yield from _classes(cls)


def _raising(code: ErrorCode) -> type[RegistryError]:
    """The domain exception that stands for ``code``; one is made, named after the code, for a code the
    server raises nowhere else (a query parameter added to the descriptor with a code of its own)."""
    for cls in _classes(RegistryError):
        if cls.code is code:
            return cls
    name = "".join(part.capitalize() for part in code.value.split("_"))
    return types.new_class(name, (RegistryError,), {"code": code})


# The query parameters of the descriptor that take one value, and the error a repeated one gets.
SINGLE_VALUED: Mapping[str, type[RegistryError]] = MappingProxyType(
    {name: _raising(code) for name, code in ROUTER.single_valued.items()}
)
EMPTY: Mapping[str, str] = MappingProxyType({})


def parse_query(raw: bytes | str) -> Mapping[str, str]:
    """The parameters of a query string, decoded as Starlette decodes them (latin-1, then percent-decoding).

    A single-valued parameter given more than once raises its error; any other repeated parameter
    keeps its last value, as ``request.query_params.get`` would.
    """
    if not raw:
        return EMPTY
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    values: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in values and key in SINGLE_VALUED:
            raise SINGLE_VALUED[key](
                f"query parameter {key!r} given more than once", detail={"parameter": key}
            )
        values[key] = value
    return MappingProxyType(values)


def query_of(scope: Scope) -> Mapping[str, str]:
    """The parsed query of this request (parsed on first use, then kept in the scope)."""
    found: Mapping[str, str] | None = scope.get(QUERY_KEY)
    if found is None:
        found = parse_query(scope.get("query_string", b""))
        scope[QUERY_KEY] = found
    return found
