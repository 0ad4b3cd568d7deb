"""The ASGI middleware that asks the configured access controller (``registry_impl.auth``) about every request.

It wraps the whole application — the fast read path included — so nothing under ``/v2/`` is
answered before the controller agreed. Before anything else it parses the query once
(``registry_impl.api.query``), with or without access control: a repeated single-valued parameter
is a 400 here, so neither authorization nor a handler can see one of two values. The access records
come from ``registry_impl.auth.scopes``; a refusal is rendered by the one envelope writer: 401
UNAUTHORIZED with the controller's ``WWW-Authenticate`` challenge, or 403 DENIED. A controller that fails (an unreadable htpasswd file,
say) gets distribution's answer: 400 with no body, and the cause in the log.

The controller is read from the application state on each request (``AppState.access``; None: no
authentication), so tests can swap it without rebuilding the app. The grant is left in the scope
under ``"registry.auth"`` for handlers and logs.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.api.context import AppState
from registry_impl.api.errors import error_response
from registry_impl.api.query import query_of
from registry_impl.auth.scopes import required_access
from registry_impl.errors import Denied, RegistryError, Unauthorized
from registry_impl.observability.requestids import note_user

__all__ = ["GRANT_KEY", "AuthMiddleware"]

log = logging.getLogger("registry.auth")

GRANT_KEY = "registry.auth"
API_PREFIX = "/v2"


class AuthMiddleware:
    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        try:
            query = query_of(scope)
        except RegistryError as exc:
            await error_response(exc)(scope, receive, send)
            return
        controller = self.state.access
        if controller is None:
            await self.app(scope, receive, send)
            return
        access = required_access(scope["method"], scope["path"], query)
        try:
            grant = await controller.authorized(Headers(scope=scope), access)
        except (Unauthorized, Denied) as exc:
            await error_response(exc)(scope, receive, send)
            return
        except Exception:
            log.exception("error checking authorization")
            await Response(status_code=400)(scope, receive, send)
            return
        scope[GRANT_KEY] = grant
        note_user(grant.user)  # for the access log
        await self.app(scope, receive, send)
