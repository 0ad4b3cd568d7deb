"""The protocol core's one exception family: a value that breaks a grammar of the registry protocol.

    ValueError
    └── ProtocolError            ``part`` names what is wrong; ``detail`` carries the offending values
        ├── InvalidName          a repository name (grammar or length)
        ├── InvalidTag           a tag
        ├── InvalidDigest        a digest (format, algorithm or encoded length)
        ├── InvalidHost          the registry host of an image reference
        ├── InvalidPlatform      an ``os/arch[/variant]`` platform
        └── InvalidRange         a Range / Content-Range value
            └── RangeNotSatisfiable   a well-formed Range that selects no byte (416)

The server maps these onto its error codes (``NAME_INVALID``, ``DIGEST_INVALID``...), the client onto its own
``ReferenceInvalid``; the core itself knows neither.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InvalidDigest",
    "InvalidHost",
    "InvalidName",
    "InvalidPlatform",
    "InvalidRange",
    "InvalidTag",
    "ProtocolError",
    "RangeNotSatisfiable",
]


class ProtocolError(ValueError):
    """A value that breaks the protocol; ``str(exc)`` is the message, ``detail`` what was sent."""

    part = "value"

    def __init__(self, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail: dict[str, Any] = detail or {}


class InvalidName(ProtocolError):
    part = "name"


class InvalidTag(ProtocolError):
    part = "tag"


class InvalidDigest(ProtocolError):
    part = "digest"


class InvalidHost(ProtocolError):
    part = "host"


class InvalidPlatform(ProtocolError):
    part = "platform"


class InvalidRange(ProtocolError):
    part = "range"


class RangeNotSatisfiable(InvalidRange):
    """A well-formed ``Range`` that selects no byte of a blob of ``size`` bytes."""

    def __init__(self, size: int, header: str) -> None:
        super().__init__("requested range not satisfiable", {"range": header, "size": size})
        self.size = size

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` value a 416 response carries: ``bytes */<size>``."""
        return f"bytes */{self.size}"
