"""Hot reads — the operations the descriptor marks ``fast`` — sent straight to their handlers.

For these operations the framework's routing, parameter validation and response wrapping cost
more than the work itself (measured with py-spy: about two thirds of a manifest GET). The one route
table (``registry_spec.router``) finds the operation and checks every path and query parameter with
the descriptor's own grammar; the handler the framework would call (``handler_for``) is then called
with the same arguments. A request it does not fully accept — another query parameter, a value off
its grammar, an unexpected exception — goes down the framework path unchanged, and domain errors
are rendered by the one envelope writer, so answers are identical (``tests/api/test_fastpath.py``
compares the two paths request by request).
"""

from __future__ import annotations

from registry_spec.router import ROUTER, Operation
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.api.context import AppState, RequestContext, enter_context, leave_context
from registry_impl.api.errors import error_response
from registry_impl.api.handlers import handler_for
from registry_impl.api.query import query_of
from registry_impl.errors import RegistryError

MATCHES = 4096  # request lines without a query whose routing is remembered
_matched: dict[tuple[str, str], tuple[Operation, dict[str, str]] | None] = {}


def match(scope: Scope) -> tuple[Operation, dict[str, str]] | None:
    """The fast operation of this request and its path parameters, or None for the framework path.

    The route table never changes, so the outcome for a method and path without a query string is
    remembered (a hot manifest is asked for by the same path again and again)."""
    if scope["type"] != "http":
        return None
    if scope.get("query_string"):
        return _match(scope)
    key = (scope["method"], scope["path"])
    try:
        return _matched[key]
    except KeyError:
        pass
    found = _match(scope)
    if len(_matched) >= MATCHES:
        _matched.clear()
    _matched[key] = found
    return found


def _match(scope: Scope) -> tuple[Operation, dict[str, str]] | None:
    routed = ROUTER.match(scope["path"])
    if routed is None:
        return None
    compiled, params = routed
    operation = compiled.operations.get(scope["method"])
    if operation is None or not operation.method.fast:
        return None
    try:
        query = query_of(scope)  # a repeated parameter: the framework path refuses it too
    except RegistryError:
        return None
    return (operation, params) if operation.accepts(params, query) else None


class FastReads:
    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state
        self.handlers = {op.operation_id: handler_for(op.operation_id) for op in ROUTER.operations.values()}

    def _match(self, scope: Scope) -> tuple[Operation, dict[str, str]] | None:
        return match(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self._match(scope)
        if matched is None:
            await self.app(scope, receive, send)
            return
        operation, params = matched
        handler = self.handlers[operation.operation_id]
        token = enter_context(RequestContext(Request(scope, receive), self.state))
        try:
            response = await handler(**params)  # storage runs where the handler puts it (see offload)
        except RegistryError as exc:
            response = error_response(exc)
        except Exception:  # nothing was sent yet: let the framework path answer (and log) it
            await self.app(scope, receive, send)
            return
        finally:
            leave_context(token)
        await response(scope, receive, send)
