"""Repository names, tags and manifest references for the server: the protocol core's grammar, failing with
the registry's error codes (``NAME_INVALID``, ``TAG_INVALID``, ``DIGEST_INVALID``)."""

from __future__ import annotations

from registry_spec.protocol import references as _core
from registry_spec.protocol.errors import InvalidDigest, InvalidName, InvalidTag, ProtocolError
from registry_spec.protocol.references import (
    NAME_COMPONENT_PATTERN,
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    TAG_PATTERN,
)

from registry_impl.digests import Digest
from registry_impl.errors import DigestInvalid, NameInvalid, RegistryError, TagInvalid

__all__ = [
    "NAME_COMPONENT_PATTERN",
    "NAME_MAX_LENGTH",
    "NAME_PATTERN",
    "TAG_PATTERN",
    "parse_reference",
    "validate_name",
    "validate_tag",
]

_ERRORS: dict[type[ProtocolError], type[RegistryError]] = {
    InvalidName: NameInvalid,
    InvalidTag: TagInvalid,
    InvalidDigest: DigestInvalid,
}


def _registry_error(exc: ProtocolError) -> RegistryError:
    return _ERRORS.get(type(exc), NameInvalid)(exc.message, detail=exc.detail)


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid repository name; raise :class:`NameInvalid` otherwise."""
    try:
        return _core.validate_name(name)
    except ProtocolError as exc:
        raise _registry_error(exc) from exc


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it is a valid tag; raise :class:`TagInvalid` otherwise."""
    try:
        return _core.validate_tag(tag)
    except ProtocolError as exc:
        raise _registry_error(exc) from exc


def parse_reference(reference: str) -> Digest | str:
    """Parse the ``<reference>`` of a manifest URL: a :class:`Digest` if it has a ``:``, else a tag."""
    try:
        return _core.parse_reference(reference)
    except ProtocolError as exc:
        raise _registry_error(exc) from exc
