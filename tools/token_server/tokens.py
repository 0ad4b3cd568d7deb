"""Issuing tokens: access tokens in distribution's JWT format, and refresh tokens only this server accepts.

An access token (header ``alg``, ``typ: JWT``, ``kid``, ``x5c``) claims ``iss`` (the issuer), ``sub``
(the account, "" when anonymous), ``aud`` (the service, a plain string as distribution 2.x needs),
``exp``/``nbf``/``iat``, ``jti`` and ``access``: ``[{type, name, actions}]``.

A refresh token is a JWT signed with the same key whose audience is ``REFRESH_AUDIENCE``, never a
registry's service, so no registry accepts it as an access token.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
from registry_toolkit.token_server.keys import SigningKey

__all__ = ["REFRESH_AUDIENCE", "Issuer", "ResourceActions", "parse_scope"]

REFRESH_AUDIENCE = "registry-token-server/refresh"


@dataclass(frozen=True)
class ResourceActions:
    """Actions on one typed, named resource: what a scope asks for, or what a token grants."""

    type: str
    name: str
    actions: tuple[str, ...]
    class_: str = ""

    def scope(self) -> str:
        kind = f"{self.type}({self.class_})" if self.class_ else self.type
        return f"{kind}:{self.name}:{','.join(self.actions)}"

    def claim(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


def parse_scope(scope: str) -> ResourceActions:
    """``type[(class)]:name:action,action`` (the name may itself hold ``:``, e.g. a registry host:port)."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not kind or not name:
        raise ValueError(f"invalid scope {scope!r}")
    resource_class = ""
    if kind.endswith(")") and "(" in kind:
        kind, _, resource_class = kind[:-1].partition("(")
    return ResourceActions(kind, name, tuple(a for a in actions.split(",") if a), resource_class)


@dataclass
class Issuer:
    key: SigningKey
    issuer: str
    expiration: int = 300
    refresh_expiration: int = 30 * 24 * 3600
    clock: Any = field(default=time.time)

    def _sign(self, claims: dict[str, Any]) -> str:
        headers = {"typ": "JWT", **self.key.header()}
        return jwt.encode(claims, self.key.key, algorithm=self.key.algorithm, headers=headers)

    def access_token(
        self, subject: str, service: str, grants: Sequence[ResourceActions]
    ) -> tuple[str, int, int]:
        """(token, issued at, lifetime in seconds)."""
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": service,
            "exp": now + self.expiration,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            "access": [g.claim() for g in grants],
        }
        return self._sign(claims), now, self.expiration

    def refresh_token(self, subject: str, service: str) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": REFRESH_AUDIENCE,
            "service": service,
            "exp": now + self.refresh_expiration,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
        }
        return self._sign(claims)

    def refresh_subject(self, token: str) -> str:
        """The account a refresh token of ours was issued to (``jwt.InvalidTokenError`` if it is not one)."""
        claims = jwt.decode(
            token,
            self.key.key.public_key(),  # type: ignore[arg-type]
            algorithms=[self.key.algorithm],
            audience=REFRESH_AUDIENCE,
            issuer=self.issuer,
            options={"require": ["exp", "sub", "aud", "iss"]},
        )
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise jwt.InvalidTokenError("refresh token without a subject")
        return subject
