"""The access-controller interface and its value types: what a request needs (Access), what a controller
gives (Grant), and how it refuses (Challenge, or ``registry_impl.errors.Denied``).

A controller is chosen by the configuration's ``auth`` section (``registry_impl.auth.create``); the ASGI
middleware (``registry_impl.api.authorization``) asks it once per request, with the access records
``registry_impl.auth.scopes`` derives from the method and path, exactly as distribution's ``authorized()``::

    AccessController.authorized(headers, access) -> Grant
    ├── raises Challenge   401 UNAUTHORIZED with the controller's WWW-Authenticate challenge
    ├── raises Denied      403 DENIED (an authenticated client that may not do this)
    └── raises anything else: the controller itself failed (distribution answers 400, no body)
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry_impl.config import ConfigError
from registry_impl.errors import Unauthorized

__all__ = [
    "Access",
    "AccessController",
    "Challenge",
    "Credentials",
    "Grant",
    "Resource",
    "basic_credentials",
    "go_quote",
    "option",
    "scope_param",
]


@dataclass(frozen=True)
class Resource:
    """A typed, named resource: ``repository`` + a repository name, or ``registry`` + ``catalog``."""

    type: str
    name: str
    class_: str = ""


@dataclass(frozen=True)
class Access:
    """One action (``pull``, ``push``, ``delete``, ``*``) a request needs on one resource."""

    resource: Resource
    action: str

    @property
    def type(self) -> str:
        return self.resource.type

    @property
    def name(self) -> str:
        return self.resource.name

    def detail(self) -> dict[str, str]:
        """The record as distribution puts it in an UNAUTHORIZED error's ``detail`` (Go field names)."""
        return {"Type": self.type, "Class": self.resource.class_, "Name": self.name, "Action": self.action}


@dataclass(frozen=True)
class Grant:
    """Who the controller authenticated, and the resources it granted (when it says)."""

    user: str
    resources: tuple[Resource, ...] = ()


class Challenge(Unauthorized):
    """Authentication is missing, failed or insufficient: 401 with a ``WWW-Authenticate`` challenge.

    ``headers`` is read by the one envelope writer (``registry_impl.api.errors.error_response``).
    """

    def __init__(self, challenge: str, reason: str, access: Sequence[Access] = ()) -> None:
        super().__init__("", detail=[a.detail() for a in access])
        self.headers: Mapping[str, str] = {"WWW-Authenticate": challenge}
        self.reason = reason

    def __str__(self) -> str:
        return f"authentication challenge ({self.reason}): {self.headers['WWW-Authenticate']}"


class AccessController(ABC):
    """Decides whether a request may have ``access``; one instance per process, shared by every request."""

    @abstractmethod
    async def authorized(self, headers: Mapping[str, str], access: Sequence[Access]) -> Grant:
        """The grant for a request with these (lower-cased) ``headers`` needing ``access``.

        Raises ``Challenge`` when the client must (re-)authenticate and ``registry_impl.errors.Denied``
        when it may not proceed at all; any other exception means the controller could not decide.
        ``headers`` also carries ``host`` and ``x-forwarded-proto`` for controllers that build URLs.
        """


def go_quote(value: str) -> str:
    """``value`` as Go's ``%q`` writes it: double quotes, with quotes, backslashes and control bytes escaped.

    Challenges quote parameters this way, so a repository name from the path can never end the
    quoted string or the header line.
    """
    out = ['"']
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        elif not char.isprintable() or ord(char) > 0x7E:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def scope_param(access: Sequence[Access]) -> str:
    """The ``scope`` of a Bearer challenge: one ``type:name:a,b`` per resource (actions sorted), space-separated.

    Resources keep the order in which the request needs them (distribution iterates a Go map).
    """
    actions: dict[tuple[str, str], set[str]] = {}
    for item in access:
        actions.setdefault((item.type, item.name), set()).add(item.action)
    return " ".join(f"{kind}:{name}:{','.join(sorted(acts))}" for (kind, name), acts in actions.items())


def option(params: Mapping[str, Any], name: str, scheme: str, required: bool = True) -> str:
    """A string parameter of ``auth.<scheme>``; a missing required one stops startup naming its key."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise ConfigError(f"auth.{scheme}.{name}", f"required by the {scheme} access controller")
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"auth.{scheme}.{name}", f"expected a string, got {value!r}")
    return value


@dataclass(frozen=True)
class Credentials:
    """The user name and password of an ``Authorization: Basic`` header."""

    username: str
    password: str = field(repr=False)


def basic_credentials(headers: Mapping[str, str]) -> Credentials | None:
    """The credentials of a ``Basic`` Authorization header (as Go's ``Request.BasicAuth``), else None."""
    value = headers.get("authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except ValueError:
        return None
    decoded = raw.decode("utf-8", "surrogateescape")  # Go strings hold any bytes; encode back the same way
    username, colon, password = decoded.partition(":")
    return Credentials(username, password) if colon else None
