"""The token endpoint as a small Starlette app: the Docker token protocol and its OAuth2 form.

* ``GET /token?service=…&scope=…[&scope=…][&account=…][&offline_token=true]`` with optional Basic
  credentials → ``{"token", "access_token", "expires_in", "issued_at"[, "refresh_token"]}``;
* ``POST /token`` (``application/x-www-form-urlencoded``) with ``grant_type=password`` (username,
  password) or ``grant_type=refresh_token`` (refresh_token), ``service``, ``scope`` (space-separated),
  ``client_id``, ``access_type=offline`` → ``{"access_token", "scope", "expires_in", "issued_at"[,
  "refresh_token"]}``;
* ``GET /healthz`` → 200.

Credentials are checked against the htpasswd file (``registry_impl.auth.htpasswd``); wrong ones are
401 with a Basic challenge. Requested actions the ACL does not grant are left out of the token.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwt
from registry_toolkit.token_server.acl import ACL, ANONYMOUS
from registry_toolkit.token_server.tokens import Issuer, ResourceActions, parse_scope
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from registry_impl.auth.base import basic_credentials, go_quote
from registry_impl.auth.htpasswd import HtpasswdFile

__all__ = ["Settings", "TokenService", "create_app"]

log = logging.getLogger("registry.token_server")
MAX_FORM = 64 * 1024


@dataclass(frozen=True)
class Settings:
    """What the server is started with (``registry-token-server --help`` describes each)."""

    issuer: str
    acl: Path
    key: Path
    certificate: Path
    service: str = ""
    htpasswd: Path | None = None
    expiration: int = 300
    realm: str = "registry-token-server"


class BadRequest(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class TokenService:
    """Authenticates accounts and turns requested scopes into tokens."""

    def __init__(self, settings: Settings, issuer: Issuer) -> None:
        self.settings = settings
        self.issuer = issuer
        self.users = HtpasswdFile(settings.htpasswd) if settings.htpasswd else None
        self.acl = ACL(settings.acl)

    async def authenticate(self, username: str, password: str) -> bool:
        return self.users is not None and await self.users.verify(username, password)

    def known(self, account: str) -> bool:
        return self.users is not None and account in self.users.entries()

    def service_for(self, requested: str) -> str:
        configured = self.settings.service
        if configured and requested and requested != configured:
            raise BadRequest("invalid_request", f"unknown service {requested!r}")
        if not (requested or configured):
            raise BadRequest("invalid_request", "service is required")
        return requested or configured

    def grant(self, account: str, scopes: Sequence[str]) -> list[ResourceActions]:
        granted: list[ResourceActions] = []
        for raw in scopes:
            try:
                asked = parse_scope(raw)
            except ValueError as exc:
                raise BadRequest("invalid_scope", str(exc)) from None
            actions = self.acl.granted(account, asked.type, asked.name, asked.actions)
            if actions:
                granted.append(ResourceActions(asked.type, asked.name, tuple(actions), asked.class_))
        return granted

    def token_body(self, account: str, service: str, granted: list[ResourceActions]) -> dict[str, Any]:
        token, issued, lifetime = self.issuer.access_token(account, service, granted)
        when = datetime.fromtimestamp(issued, UTC).isoformat().replace("+00:00", "Z")
        log.info("issued token for %r on %s: %s", account, service, " ".join(g.scope() for g in granted))
        return {"token": token, "access_token": token, "expires_in": lifetime, "issued_at": when}


def _scopes(values: Sequence[str]) -> list[str]:
    return [scope for value in values for scope in value.split()]


def _error(exc: BadRequest, realm: str) -> JSONResponse:
    headers = {"WWW-Authenticate": f"Basic realm={go_quote(realm)}"} if exc.status == 401 else None
    body = {"error": exc.error, "error_description": exc.description, "details": exc.description}
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def get_token(request: Request) -> Response:
    service: TokenService = request.app.state.tokens
    try:
        account = ANONYMOUS
        if "authorization" in request.headers:
            credentials = basic_credentials(request.headers)
            if credentials is None or not await service.authenticate(
                credentials.username, credentials.password
            ):
                raise BadRequest("invalid_grant", "incorrect username or password", 401)
            account = credentials.username
        claimed = request.query_params.get("account", "")
        if claimed and account != ANONYMOUS and claimed != account:
            raise BadRequest("invalid_request", "account does not match the credentials")
        audience = service.service_for(request.query_params.get("service", ""))
        body = service.token_body(
            account, audience, service.grant(account, _scopes(request.query_params.getlist("scope")))
        )
        offline = request.query_params.get("offline_token", "").lower() == "true"
        if offline and account != ANONYMOUS:
            body["refresh_token"] = service.issuer.refresh_token(account, audience)
        return JSONResponse(body)
    except BadRequest as exc:
        return _error(exc, service.settings.realm)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise BadRequest("invalid_request", "form too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


async def post_token(request: Request) -> Response:
    service: TokenService = request.app.state.tokens
    try:
        form = await _form(request)
        grant_type = form.get("grant_type", "")
        if grant_type == "password":
            account = form.get("username", "")
            if not account or not await service.authenticate(account, form.get("password", "")):
                raise BadRequest("invalid_grant", "incorrect username or password", 401)
        elif grant_type == "refresh_token":
            try:
                account = service.issuer.refresh_subject(form.get("refresh_token", ""))
            except jwt.InvalidTokenError:
                raise BadRequest("invalid_grant", "invalid refresh token", 401) from None
            if not service.known(account):
                raise BadRequest("invalid_grant", "the account no longer exists", 401)
        else:
            raise BadRequest("unsupported_grant_type", f"unsupported grant_type {grant_type!r}")
        audience = service.service_for(form.get("service", ""))
        granted = service.grant(account, _scopes([form.get("scope", "")]))
        body = service.token_body(account, audience, granted)
        del body["token"]
        body["scope"] = " ".join(g.scope() for g in granted)
        if form.get("access_type") == "offline":
            body["refresh_token"] = service.issuer.refresh_token(account, audience)
        return JSONResponse(body)
    except BadRequest as exc:
        return _error(exc, service.settings.realm)


async def healthz(_request: Request) -> Response:
    return Response("ok\n", media_type="text/plain")


def create_app(service: TokenService) -> Starlette:
    app = Starlette(
        routes=[
            Route("/token", get_token, methods=["GET"]),
            Route("/token", post_token, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
    app.state.tokens = service
    return app
