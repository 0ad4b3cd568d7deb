"""Hot reads — manifest and blob GET/HEAD, tag lists and catalog pages — sent straight to their handlers.

For these operations the framework's routing, parameter validation and response wrapping cost
more than the work itself (measured with py-spy: about two thirds of a manifest GET). Their only
inputs are path parameters, a few headers and the pagination query, so this middleware checks the
parameters with the descriptor's own grammars (the parsers in ``registry_impl.references`` and
``digests``) and calls the same handler functions the framework would. A request it does not fully
understand — another query parameter, a value that does not parse, an unexpected exception — goes
down the framework path unchanged, and domain errors are rendered by the one envelope writer, so
answers are identical (``tests/api/test_fastpath.py`` compares the two paths request by request).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.api.context import AppState, RequestContext, use_context
from registry_impl.api.errors import error_response
from registry_impl.api.handlers import blobs, catalog, manifests, tags
from registry_impl.api.query import query_of
from registry_impl.digests import parse_digest
from registry_impl.errors import RegistryError
from registry_impl.references import parse_reference, validate_name

Handler = Callable[[RequestContext, Mapping[str, str], bool], Response]


@dataclass(frozen=True)
class FastRoute:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    checks: Mapping[str, Callable[[str], object]]
    handler: Handler
    query: frozenset[str] = frozenset()


def _digits(value: str) -> object:
    if not value.isdigit():
        raise RegistryError("not a page size")  # the framework path explains it
    return value


PAGE_QUERY = frozenset({"n", "last"})
ROUTES = (
    FastRoute(
        re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$"),
        frozenset({"GET", "HEAD"}),
        {"name": validate_name, "ref": parse_reference},
        lambda ctx, p, body: manifests.fetch(ctx, p["name"], p["ref"], body),
    ),
    FastRoute(
        re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<ref>[^/]+)$"),
        frozenset({"GET", "HEAD"}),
        {"name": validate_name, "ref": parse_digest},
        lambda ctx, p, body: blobs.fetch(ctx, p["name"], p["ref"], body),
    ),
    FastRoute(
        re.compile(r"^/v2/(?P<name>.+)/tags/list$"),
        frozenset({"GET"}),
        {"name": validate_name, "n": _digits},
        lambda ctx, p, body: tags.fetch(ctx, p["name"]),
        PAGE_QUERY,
    ),
    FastRoute(
        re.compile(r"^/v2/_catalog$"),
        frozenset({"GET"}),
        {"n": _digits},
        lambda ctx, p, body: catalog.fetch(ctx),
        PAGE_QUERY,
    ),
)


def match(scope: Scope) -> tuple[FastRoute, dict[str, str]] | None:
    """The fast route for this request and its checked parameters, or None for the framework path."""
    if scope["type"] != "http":
        return None
    for route in ROUTES:
        found = route.pattern.match(scope["path"])
        if found is None:
            continue
        if scope["method"] not in route.methods:
            return None
        params = found.groupdict()
        try:
            query = query_of(scope)  # a repeated parameter: the framework path refuses it too
        except RegistryError:
            return None
        if query:
            if not route.query or any(key not in route.query for key in query):
                return None
            params.update(query)
        try:
            for key, check in route.checks.items():
                if key in params:
                    check(params[key])
        except RegistryError:
            return None
        return route, params
    return None


class FastReads:
    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    def _match(self, scope: Scope) -> tuple[FastRoute, dict[str, str]] | None:
        return match(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self._match(scope)
        if matched is None:
            await self.app(scope, receive, send)
            return
        route, params = matched
        ctx = RequestContext(Request(scope, receive), self.state)
        with use_context(ctx):
            try:
                # the handlers read storage: inline on local storage, in a thread on remote (see offload)
                response = await self.state.offload.storage(
                    route.handler, ctx, params, scope["method"] == "GET"
                )
            except RegistryError as exc:
                response = error_response(exc)
            except Exception:  # nothing was sent yet: let the framework path answer (and log) it
                await self.app(scope, receive, send)
                return
        await response(scope, receive, send)
