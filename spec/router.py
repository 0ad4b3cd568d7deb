"""ROUTES compiled once into the one route table: path → route, operation and parameters, with each
parameter's grammar and the code a bad value of it is answered with.

Every matcher of the registry reads this table: authorization (which repository a request names),
the fast path (which operation, and whether all its inputs — path, query, headers, a body's media
type — are valid) and the classification
of the framework's refusals (which error code). Path parameters match as the framework's router
matches them — a ``format: path`` parameter (the repository name) as Starlette's ``path`` converter
(``.*``, slashes included), any other as one segment (``[^/]+``) — and routes are tried in the
descriptor's order, so the name found here is the one the handler is called with.

A value is *valid* when it satisfies the parameter's schema as the framework checks it (pattern
searched, ``maxLength`` in characters, ``minimum``, ``enum``); an integer must be ASCII digits, which
is stricter than the framework's coercion, never laxer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from . import params as P
from .model import ErrorCode, Method, Param, Response, Route
from .routes import ROUTES

__all__ = ["ROUTER", "Operation", "Router", "Rule", "valid_value"]

Check = Callable[[str], bool]


@cache
def _search(pattern: str) -> Callable[[str], re.Match[str] | None]:
    return re.compile(pattern).search


def valid_value(param: Param) -> Check:
    """Whether a text value of ``param`` satisfies its schema (see the module docstring)."""
    search = _search(param.pattern) if param.pattern is not None else None
    enum = frozenset(param.enum)
    if param.type == "integer":
        minimum = param.minimum

        def integer(value: str) -> bool:
            if not (value.isascii() and value.isdigit()):
                return False
            digits = value.lstrip("0")
            # int() refuses more than 4 300 digits; a number that long is above any minimum anyway
            return minimum is None or len(digits) > 18 or int(digits or "0") >= minimum

        return integer
    if param.type == "boolean":
        return lambda value: value in ("true", "false")
    max_length = param.max_length

    def string(value: str) -> bool:
        return (
            (max_length is None or len(value) <= max_length)
            and (search is None or search(value) is not None)
            and (not enum or value in enum)
        )

    return string


@dataclass(frozen=True)
class Rule:
    """One parameter of one operation: its grammar, and the code a bad value gets there."""

    param: Param
    valid: Check
    override: ErrorCode | None = None

    def error(self, value: str) -> ErrorCode | None:
        return self.override or self.param.error_for(value)


@dataclass(frozen=True)
class Operation:
    """One method of one route, with its parameters merged over the request variants."""

    route: Route
    method: Method
    path: tuple[Rule, ...]
    query: Mapping[str, Rule]
    headers: Mapping[str, Rule]  # by lowercased name
    required_query: tuple[Rule, ...]  # required by every variant
    # What ``accepts_headers`` checks: headers required by every variant, headers with a grammar (a pattern,
    # an enum or a non-string type), and the media types a body may have (empty: the operation takes none).
    required_headers: frozenset[str]
    checked_headers: Mapping[str, Rule]
    media_types: frozenset[str]
    opaque_query: frozenset[str]  # the route's (``Route.opaque_query``): any value passes

    @property
    def checks_headers(self) -> bool:
        return bool(self.required_headers or self.checked_headers or self.media_types)

    @property
    def operation_id(self) -> str:
        return self.method.operation_id

    def accepts(self, path_params: Mapping[str, str], query: Mapping[str, str]) -> bool:
        """Whether every path and query parameter is known and valid, and none required is missing
        (headers: ``accepts_headers``)."""
        for rule in self.path:
            if not rule.valid(path_params[rule.param.name]):
                return False
        if query:
            for key, value in query.items():
                if key in self.opaque_query:
                    continue
                found = self.query.get(key)
                if found is None or not found.valid(value):
                    return False
        return not self.required_query or all(rule.param.name in query for rule in self.required_query)

    def accepts_headers(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether the request headers (an ASGI scope's) are what the framework would let through, and
        plainly so: every required header present once, every header with a grammar valid, and a body's
        ``Content-Type`` exactly one of the operation's media types (no parameters, no other spelling), or
        absent where it is not required (the framework then takes the first media type)."""
        seen: set[str] = set()
        for raw_name, raw_value in headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name in seen and (name in self.required_headers or name in self.checked_headers):
                return False
            seen.add(name)
            rule = self.checked_headers.get(name)
            if rule is not None and not rule.valid(value):
                return False
            if name == "content-type" and self.media_types and value not in self.media_types:
                return False
        return self.required_headers <= seen

    def refusal(self, status: int) -> Response:
        """What a refused request no parameter explains is answered with (``Method.rejected``)."""
        for response in self.method.rejected:
            if response.status == status:
                return response
        return self.method.rejected[0] if self.method.rejected else P.REQUEST_INVALID


@dataclass(frozen=True)
class CompiledRoute:
    route: Route
    match: Callable[[str], re.Match[str] | None]
    operations: Mapping[str, Operation]  # by HTTP method


def _path_pattern(route: Route) -> re.Pattern[str]:
    """The template as a regex, as Starlette compiles it."""
    formats = {p.name: p.format for p in route.path_params}
    pattern = ""
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", route.path):
        pattern += re.escape(literal)
        if name:
            pattern += f"(?P<{name}>.*)" if formats[name] == "path" else f"(?P<{name}>[^/]+)"
    return re.compile(f"^{pattern}$")


def _operation(route: Route, method: Method) -> Operation:
    overrides = dict(method.param_errors)

    def rule(param: Param) -> Rule:
        return Rule(param, valid_value(param), overrides.get(param.name))

    query: dict[str, Rule] = {}
    headers: dict[str, Rule] = {}
    for request in method.requests:
        for param in request.query:
            query.setdefault(param.name, rule(param))
        for param in request.headers:
            headers.setdefault(param.name.lower(), rule(param))
    required = [
        query[name]
        for name in query
        if all(any(q.name == name and q.required for q in r.query) for r in method.requests)
    ]
    required_headers = frozenset(
        name
        for name in headers
        if all(any(h.name.lower() == name and h.required for h in r.headers) for r in method.requests)
    )
    checked = {
        name: r
        for name, r in headers.items()
        if r.param.pattern is not None or r.param.enum or r.param.type != "string"
    }
    media_types = frozenset(t for r in method.requests if r.body is not None for t in r.body.content_types)
    return Operation(
        route,
        method,
        tuple(rule(p) for p in route.path_params),
        MappingProxyType(query),
        MappingProxyType(headers),
        tuple(required),
        required_headers,
        MappingProxyType(checked),
        media_types,
        frozenset(route.opaque_query),
    )


def _single_valued(routes: tuple[Route, ...]) -> Mapping[str, ErrorCode]:
    """Query parameters that take one value, with the code a repeated one gets (the same on every route)."""
    out: dict[str, ErrorCode] = {}
    for route in routes:
        for method in route.methods:
            for request in method.requests:
                for param in request.query:
                    if param.repeatable:
                        continue
                    if param.error is None:
                        raise ValueError(
                            f"query parameter {param.name!r} takes one value but has no error code"
                        )
                    if out.setdefault(param.name, param.error) is not param.error:
                        raise ValueError(f"query parameter {param.name!r} has two error codes")
    return MappingProxyType(out)


class Router:
    """The compiled table of ``routes``."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.routes = tuple(
            CompiledRoute(
                route,
                _path_pattern(route).match,
                MappingProxyType({m.method: _operation(route, m) for m in route.methods}),
            )
            for route in routes
        )
        self.operations: Mapping[str, Operation] = MappingProxyType(
            {op.operation_id: op for r in self.routes for op in r.operations.values()}
        )
        self.single_valued = _single_valued(routes)

    def match(self, path: str) -> tuple[CompiledRoute, dict[str, str]] | None:
        """The first route whose template matches ``path``, and its path parameters (unchecked)."""
        for compiled in self.routes:
            found = compiled.match(path)
            if found is not None:
                return compiled, found.groupdict()
        return None

    def allowed(self, path: str) -> tuple[str, ...]:
        """The methods the route of ``path`` answers (HEAD wherever GET is), sorted; () when no route matches."""
        found = self.match(path)
        if found is None:
            return ()
        methods = set(found[0].operations)
        if "GET" in methods:
            methods.add("HEAD")
        return tuple(sorted(methods))

    def operation(self, route_name: str, method: str) -> Operation:
        """The operation of ``method`` on the route called ``route_name``."""
        for compiled in self.routes:
            if compiled.route.name == route_name:
                return compiled.operations[method]
        raise KeyError(route_name)


ROUTER = Router(ROUTES)
