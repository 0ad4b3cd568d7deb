"""Image references and digests for the client: the protocol core's parsers, failing with :class:`ReferenceInvalid`.

The grammar and docker's host rules live in :mod:`registry_spec.protocol.references` (the server validates with
the same code); this module adds what only a client decides: which URL a registry host is reached at.
"""

from __future__ import annotations

from registry_client.errors import ReferenceInvalid
from registry_spec.protocol import digests as _digests
from registry_spec.protocol import references as _core
from registry_spec.protocol.digests import digest_of
from registry_spec.protocol.errors import ProtocolError
from registry_spec.protocol.references import (
    DOCKER_HUB,
    DOCKER_HUB_API,
    ImageReference,
    hostname,
    is_loopback,
)

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_API",
    "ImageReference",
    "base_url",
    "check_digest",
    "digest_of",
    "hostname",
    "is_loopback",
    "parse_reference",
    "validate_name",
]


def check_digest(value: str) -> str:
    """Return ``value`` if it is a digest of a registered algorithm with the right length, else raise."""
    try:
        return _digests.check_digest(value)
    except ProtocolError as exc:
        raise ReferenceInvalid(f"{exc.message}: {value!r}") from exc


def validate_name(name: str) -> str:
    try:
        return _core.validate_name(name)
    except ProtocolError as exc:
        raise ReferenceInvalid(f"{exc.message}: {name!r}") from exc


def parse_reference(text: str, *, require_host: bool = False) -> ImageReference:
    """Parse ``[host[:port]/]repository[:tag][@digest]``; raise :class:`ReferenceInvalid` naming the bad part."""
    try:
        return _core.parse_image_reference(text, require_host=require_host)
    except ProtocolError as exc:
        raise ReferenceInvalid(f"{exc.message} in {text!r}") from exc


def base_url(host: str, *, insecure: bool = False) -> str:
    """The API base URL of a registry host: plain HTTP for loopback hosts and with ``insecure``, else HTTPS."""
    api_host = DOCKER_HUB_API if host == DOCKER_HUB else host
    scheme = "http" if insecure or is_loopback(host) else "https"
    return f"{scheme}://{api_host}"
