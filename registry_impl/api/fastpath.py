"""Hot operations — those the descriptor marks ``fast`` — sent straight to their handlers.

For these operations the framework's routing, parameter validation and response wrapping cost
more than the work itself (measured with py-spy: about two thirds of a manifest GET, 45 % of a
manifest PUT, a third of a 4 KiB upload PATCH). The one route table (``registry_spec.router``) finds the
operation and checks every path and query parameter, and the headers, with the descriptor's own grammar;
the handler the framework would call (``handler_for``) is then called with the same arguments. A request
it does not fully accept — another query parameter, a value off its grammar, a ``Content-Type`` that is
not exactly one of the body's media types — goes down the framework path unchanged, and domain errors
are rendered by the one envelope writer, so answers are identical (``tests/api/test_fastpath.py``
compares the two paths request by request).

A write goes through what the framework path runs before its handler: the read-only gate
(``WriteGate``) and, for a manifest PUT, the body bounds (``ManifestSizeLimit``). A write that announces a
body has its first piece asked for as it enters (``limits.start_body``; authorization has passed by then), so
under granian the piece arrives while the handler claims and opens the upload: measured on 8 MiB upload
PATCHes, the wait for it fell from ~0.55 to ~0.3 ms. An unexpected
exception of a read is left to the framework path to answer and log; a write has consumed its body
by then, so it is answered here as the framework would (500 ``UNKNOWN``, logged).
"""

from __future__ import annotations

import uuid

from registry_spec.router import ROUTER, Operation
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.api.context import AppState, RequestContext, enter_context, leave_context
from registry_impl.api.errors import error_response, unknown_error
from registry_impl.api.handlers import handler_for
from registry_impl.api.limits import body_cut_short, start_body
from registry_impl.api.middleware import MANIFEST_PUT, ManifestSizeLimit, WriteGate
from registry_impl.api.query import query_of
from registry_impl.errors import RegistryError
from registry_impl.observability.requestids import request_id

MATCHES = 4096  # request lines without a query whose routing is remembered
_matched: dict[tuple[str, str], tuple[Operation, dict[str, str]] | None] = {}


def match(scope: Scope) -> tuple[Operation, dict[str, str]] | None:
    """The fast operation of this request and its path parameters, or None for the framework path."""
    found = _routed(scope)
    if found is not None and found[0].checks_headers and not found[0].accepts_headers(scope["headers"]):
        return None
    return found


def _routed(scope: Scope) -> tuple[Operation, dict[str, str]] | None:
    """``match`` before the headers are looked at. The route table never changes, so the outcome for a
    method and path without a query string is remembered (a hot manifest is asked for by the same path
    again and again)."""
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


READS = frozenset({"GET", "HEAD"})
_MATCHED = "registry.fast_operation"  # scope key: the (operation, path parameters) a write is served with


def _declares_body(scope: Scope) -> bool:
    """Whether the request announces a body: a Content-Length other than 0, or a Transfer-Encoding."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


class FastPath:
    """In front of the framework: serves the requests ``match`` accepts, passes on the others."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state
        self.handlers = {op.operation_id: handler_for(op.operation_id) for op in ROUTER.operations.values()}
        self.writes: dict[str, ASGIApp] = {}  # what runs before a write's handler, by operation
        for op in ROUTER.operations.values():
            if op.method.fast and op.method.method not in READS:
                inner: ASGIApp = self._write
                if op.operation_id == MANIFEST_PUT:
                    inner = ManifestSizeLimit(inner, state, applies=lambda _scope: True)
                self.writes[op.operation_id] = WriteGate(inner, state)

    def _match(self, scope: Scope) -> tuple[Operation, dict[str, str]] | None:
        return match(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self._match(scope)
        if matched is None:
            await self.app(scope, receive, send)
            return
        operation, params = matched
        write = self.writes.get(operation.operation_id)
        if write is not None:
            if _declares_body(scope):
                start_body()
            await write({**scope, _MATCHED: matched}, receive, send)
            return
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

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation, params = scope[_MATCHED]
        handler = self.handlers[operation.operation_id]
        token = enter_context(RequestContext(Request(scope, receive), self.state))
        try:
            response = await handler(**params)
        except RegistryError as exc:
            response = error_response(exc)
        except ClientDisconnect:
            response = body_cut_short()
        except Exception as exc:  # the body is read: answered here, as the framework's handler would
            response = unknown_error(exc, request_id() or uuid.uuid4().hex)
        finally:
            leave_context(token)
        await response(scope, receive, send)
