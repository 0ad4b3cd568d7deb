"""``auth.silly``: any non-empty Authorization header passes (development and tests only).

Without one, the answer is distribution's: 401 with ``Bearer realm="…",service="…"`` and, when the
request needs access, ``scope="…"`` listing one ``type:name:action`` per record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from registry_impl.auth.base import Access, AccessController, Challenge, Grant, go_quote, option

__all__ = ["SillyAccessController"]


class SillyAccessController(AccessController):
    def __init__(self, realm: str, service: str) -> None:
        self.realm = realm
        self.service = service

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SillyAccessController:
        return cls(option(params, "realm", "silly"), option(params, "service", "silly"))

    async def authorized(self, headers: Mapping[str, str], access: Sequence[Access]) -> Grant:
        if headers.get("authorization", ""):
            return Grant(user="silly")
        challenge = f"Bearer realm={go_quote(self.realm)},service={go_quote(self.service)}"
        if access:
            scope = " ".join(f"{a.type}:{a.name}:{a.action}" for a in access)
            challenge += f",scope={go_quote(scope)}"
        raise Challenge(challenge, "no Authorization header", access)
