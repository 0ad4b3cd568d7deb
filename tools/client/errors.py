"""Typed exceptions of the client: one class per registry error code, built from ``registry_spec.errors``.

The tree::

    ClientError                      anything this package raises on purpose
    ├── ReferenceInvalid             an image reference or digest the client cannot parse
    ├── ConnectionFailed             no answer after every retry (wraps the last httpx.TransportError)
    ├── DigestMismatch               content that does not hash to the digest it was fetched or pushed by
    ├── AuthenticationFailed         the token service refused the credentials, or answered nonsense
    └── RegistryError                the registry answered an error status; ``code``/``errors`` from its envelope
        ├── BlobUnknown, ManifestUnknown, NameUnknown, Denied, ...   one per code in REGISTRY (same name,
        │                                                            CamelCase), generated, not hand-written
        └── (RegistryError itself: a code this registry does not declare, or no envelope at all)

``RegistryError.from_response`` reads the ``{"errors": [{"code", "message", "detail"}]}`` envelope and picks the
class of the first error (distribution takes the HTTP status from it too). A body without an envelope (HEAD
answers, the reference's plain-text 404s) gets the class its status implies: 401, 403, 429, 503 have one code each,
and 404 takes the code the caller expects for the resource (``not_found="BLOB_UNKNOWN"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from registry_spec.errors import REGISTRY

__all__ = [
    "AuthenticationFailed",
    "ClientError",
    "ConnectionFailed",
    "DigestMismatch",
    "ErrorDetail",
    "ReferenceInvalid",
    "RegistryError",
    "class_name",
    "error_class",
]


class ClientError(Exception):
    """Base of every exception the client raises on purpose."""


class ReferenceInvalid(ClientError, ValueError):
    """An image reference, repository name, tag or digest that does not match the grammar."""


class ConnectionFailed(ClientError):
    """The registry could not be reached (after retries)."""


class DigestMismatch(ClientError):
    """Content did not hash to the digest it was addressed by."""

    def __init__(self, expected: str, actual: str, what: str = "content") -> None:
        super().__init__(f"{what} digest mismatch: expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class AuthenticationFailed(ClientError):
    """The token service refused the credentials or could not be used."""


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of the error envelope."""

    code: str
    message: str
    detail: Any = None

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}" if self.message else self.code
        if self.detail not in (None, "", {}, []):
            text += f" ({json.dumps(self.detail, sort_keys=True, default=str)})"
        return text


_BY_STATUS = {401: "UNAUTHORIZED", 403: "DENIED", 429: "TOOMANYREQUESTS", 503: "UNAVAILABLE", 500: "UNKNOWN"}


class RegistryError(ClientError):
    """The registry answered with an error status; ``errors`` holds its envelope (possibly empty)."""

    code: str | None = None  # set on the generated subclasses

    def __init__(
        self, status: int, errors: tuple[ErrorDetail, ...] = (), *, method: str = "", url: str = ""
    ) -> None:
        self.status = status
        self.errors = errors
        if errors:
            self.code = errors[0].code
        self.method = method
        self.url = url
        super().__init__(self._describe())

    @property
    def message(self) -> str:
        return self.errors[0].message if self.errors else ""

    @property
    def detail(self) -> Any:
        return self.errors[0].detail if self.errors else None

    def _describe(self) -> str:
        where = f" ({self.method} {self.url} -> {self.status})" if self.method else f" (HTTP {self.status})"
        if not self.errors:
            return f"{self.code or 'HTTP ' + str(self.status)}{where}"
        return "; ".join(str(e) for e in self.errors) + where

    @classmethod
    def from_response(cls, response: httpx.Response, *, not_found: str | None = None) -> RegistryError:
        """The exception for an error ``response`` (its body must have been read, or be empty)."""
        errors = parse_envelope(response)
        if errors:
            code: str | None = errors[0].code
        elif response.status_code == 404:
            code = not_found
        else:
            code = _BY_STATUS.get(response.status_code)
        try:
            method, url = response.request.method, str(response.request.url)
        except RuntimeError:  # a response built without a request
            method, url = "", ""
        return error_class(code)(response.status_code, errors, method=method, url=url)


def parse_envelope(response: httpx.Response) -> tuple[ErrorDetail, ...]:
    """The entries of an error envelope, or ``()`` when the body is not one."""
    try:
        document = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        return ()
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        return ()
    out = []
    for entry in document["errors"]:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            out.append(ErrorDetail(entry["code"], str(entry.get("message") or ""), entry.get("detail")))
    return tuple(out)


def class_name(code: str) -> str:
    """``BLOB_UPLOAD_UNKNOWN`` -> ``BlobUploadUnknown``."""
    return "".join(part.capitalize() for part in code.lower().split("_"))


def _build() -> dict[str, type[RegistryError]]:
    classes: dict[str, type[RegistryError]] = {}
    for value, spec in REGISTRY.items():
        doc = f"``{value}`` (HTTP {spec.status}): {spec.description}"
        classes[value] = type(class_name(value), (RegistryError,), {"code": value, "__doc__": doc})
        classes[value].__module__ = __name__
    return classes


#: Every declared code's exception class, by code.
BY_CODE: dict[str, type[RegistryError]] = _build()
globals().update({cls.__name__: cls for cls in BY_CODE.values()})
__all__ += sorted(cls.__name__ for cls in BY_CODE.values())


def error_class(code: str | None) -> type[RegistryError]:
    """The class for ``code``; ``RegistryError`` itself for an undeclared code or none."""
    if code is None:
        return RegistryError
    return BY_CODE.get(code, RegistryError)


def __getattr__(name: str) -> type[RegistryError]:
    # Only reached for names not generated above; declared so type checkers accept ``errors.BlobUnknown``.
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
