"""Repository names, tags and references: the OCI grammar, and docker-style image references."""

from __future__ import annotations

import re
from typing import NamedTuple

from registry_impl.digests import Digest, parse_digest
from registry_impl.errors import NameInvalid, TagInvalid

__all__ = [
    "DEFAULT_HOST",
    "NAME_COMPONENT_PATTERN",
    "NAME_MAX_LENGTH",
    "NAME_PATTERN",
    "TAG_PATTERN",
    "ImageReference",
    "parse_image_reference",
    "parse_reference",
    "validate_name",
    "validate_tag",
]

# The grammars are the descriptor's (registry_spec.params), so the spec and the server cannot drift.
from registry_spec.params import NAME_COMPONENT_PATTERN, NAME_MAX_LENGTH, NAME_PATTERN, TAG_PATTERN

DEFAULT_HOST = "docker.io"
_LEGACY_HOST = "index.docker.io"
_OFFICIAL_PREFIX = "library/"

_NAME_RE = re.compile(NAME_PATTERN)
_TAG_RE = re.compile(TAG_PATTERN)
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST_RE = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid repository name; raise :class:`NameInvalid` otherwise."""
    if len(name) > NAME_MAX_LENGTH:
        raise NameInvalid(
            f"repository name must not be longer than {NAME_MAX_LENGTH} characters",
            detail={"name": name, "length": len(name)},
        )
    if not _NAME_RE.fullmatch(name):
        raise NameInvalid("invalid repository name", detail={"name": name})
    return name


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it is a valid tag; raise :class:`TagInvalid` otherwise."""
    if not _TAG_RE.fullmatch(tag):
        raise TagInvalid("invalid tag", detail={"tag": tag})
    return tag


def parse_reference(reference: str) -> Digest | str:
    """Parse the ``<reference>`` of a manifest URL: a :class:`Digest` if it has a ``:``, else a tag."""
    if ":" in reference:
        return parse_digest(reference)
    return validate_tag(reference)


class ImageReference(NamedTuple):
    """A parsed ``host[:port]/repository[:tag][@digest]`` as the docker CLI understands it."""

    host: str
    repository: str
    tag: str | None
    digest: Digest | None

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return f"{self.host}/{self.repository}{tag}{digest}"


def _split_host(reference: str) -> tuple[str, str]:
    """Split off the host the docker way.

    The first ``/``-separated component is a host when it contains ``.`` or ``:``, is ``localhost``,
    or (as in docker's ``splitDockerDomain``) has an uppercase letter, which no repository name has.
    """
    first, slash, rest = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        if not _HOST_RE.fullmatch(first):
            raise NameInvalid("invalid registry host", detail={"host": first})
        host = DEFAULT_HOST if first == _LEGACY_HOST else first
        return host, rest
    return DEFAULT_HOST, reference


def parse_image_reference(reference: str) -> ImageReference:
    """Parse a client-side image reference, applying docker's defaults for host and ``library/``.

    Raises :class:`NameInvalid`, :class:`TagInvalid` or :class:`DigestInvalid` for the bad part.
    """
    remainder, at, digest_text = reference.partition("@")
    digest = parse_digest(digest_text) if at else None
    host, path = _split_host(remainder)
    repository, tag = path, None
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        repository, tag = path[:colon], validate_tag(path[colon + 1 :])
    if host == DEFAULT_HOST and "/" not in repository:
        repository = _OFFICIAL_PREFIX + repository
    validate_name(repository)
    return ImageReference(host, repository, tag, digest)
