"""Hot reads — manifest and blob GET/HEAD — dispatched straight to their handlers.

For these operations the framework's routing, parameter validation and response wrapping cost
more than the work itself (measured with py-spy: about two thirds of a manifest GET). Their only
inputs are two path parameters and a few headers, so this middleware checks the parameters with
the descriptor's own grammars (the parsers in ``registry_impl.references``/``digests``) and calls
the same handler functions the framework would. A request it does not fully understand — a query
string, a parameter that does not parse, an unexpected exception — goes down the framework path
unchanged, and domain errors are rendered by the one envelope writer, so answers are identical
(``tests/api/test_fastpath.py`` compares the two paths request by request).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.api.context import AppState, RequestContext, use_context
from registry_impl.api.errors import error_response
from registry_impl.api.handlers import blobs, manifests
from registry_impl.digests import parse_digest
from registry_impl.errors import RegistryError
from registry_impl.references import parse_reference, validate_name

READ_ROUTE = re.compile(r"^/v2/(?P<name>.+)/(?P<entity>manifests|blobs)/(?P<ref>[^/]+)$")
Fetch = Callable[[RequestContext, str, str, bool], Response]
FETCHERS: dict[str, tuple[Fetch, Callable[[str], object]]] = {
    "manifests": (manifests.fetch, parse_reference),
    "blobs": (blobs.fetch, parse_digest),
}


class FastReads:
    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    def _match(self, scope: Scope) -> tuple[Fetch, str, str] | None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or scope.get("query_string"):
            return None
        match = READ_ROUTE.match(scope["path"])
        if match is None:
            return None
        fetch, check = FETCHERS[match["entity"]]
        try:
            validate_name(match["name"])
            check(match["ref"])
        except RegistryError:
            return None
        return fetch, match["name"], match["ref"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self._match(scope)
        if matched is None:
            await self.app(scope, receive, send)
            return
        fetch, name, reference = matched
        ctx = RequestContext(Request(scope, receive), self.state)
        with use_context(ctx):
            try:
                response = fetch(ctx, name, reference, scope["method"] == "GET")
            except RegistryError as exc:
                response = error_response(exc)
            except Exception:  # nothing was sent yet: let the framework path answer (and log) it
                await self.app(scope, receive, send)
                return
        await response(scope, receive, send)
