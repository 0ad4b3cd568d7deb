"""Access control, chosen by the configuration's ``auth`` section as distribution chooses it.

``create(scheme, params)`` builds the one configured controller (``silly``, ``htpasswd``, ``token``);
the HTTP binding's ``registry_impl.api.authorization.AuthMiddleware`` asks it about every request. See
``base`` for the interface and ``scopes`` for what each request needs. Nothing here imports
``registry_impl.api``: the API depends on access control, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from registry_impl.auth.base import Access, AccessController, Challenge, Grant, Resource
from registry_impl.config import ConfigError

__all__ = ["CONTROLLERS", "Access", "AccessController", "Challenge", "Grant", "Resource", "create"]

Factory = Callable[[Mapping[str, Any]], AccessController]


def _silly(params: Mapping[str, Any]) -> AccessController:
    from registry_impl.auth.silly import SillyAccessController

    return SillyAccessController.from_params(params)


def _htpasswd(params: Mapping[str, Any]) -> AccessController:
    from registry_impl.auth.htpasswd import HtpasswdAccessController

    return HtpasswdAccessController.from_params(params)


def _token(params: Mapping[str, Any]) -> AccessController:
    from registry_impl.auth.token import TokenAccessController

    return TokenAccessController.from_params(params)


CONTROLLERS: dict[str, Factory] = {"silly": _silly, "htpasswd": _htpasswd, "token": _token}


def create(scheme: str | None, params: Mapping[str, Any]) -> AccessController | None:
    """The controller for ``auth.<scheme>`` (None without an ``auth`` section); ConfigError if unknown."""
    if scheme is None:
        return None
    factory = CONTROLLERS.get(scheme)
    if factory is None:
        raise ConfigError(f"auth.{scheme}", f"no access controller registered with name: {scheme}")
    return factory(params or {})
