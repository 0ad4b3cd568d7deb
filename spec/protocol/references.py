"""Repository names, tags and image references (``host[:port]/repository[:tag][@digest]``), without I/O.

The grammars are the descriptor's (:mod:`registry_spec.params`), so the spec, the server and the client cannot
drift. Host rules are docker's (``splitDockerDomain``): the first ``/``-separated component is a registry host
when it has a ``.`` or a ``:``, is ``localhost``, or has an uppercase letter (no repository name has one);
otherwise the host is Docker Hub and one-component names get ``library/``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from registry_spec.params import NAME_COMPONENT_PATTERN, NAME_MAX_LENGTH, NAME_PATTERN, TAG_PATTERN
from registry_spec.protocol.digests import Digest, check_digest, parse_digest
from registry_spec.protocol.errors import InvalidHost, InvalidName, InvalidTag

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_API",
    "NAME_COMPONENT_PATTERN",
    "NAME_MAX_LENGTH",
    "NAME_PATTERN",
    "TAG_PATTERN",
    "ImageReference",
    "hostname",
    "is_loopback",
    "parse_image_reference",
    "parse_reference",
    "validate_name",
    "validate_tag",
]

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = ("index.docker.io", DOCKER_HUB_API)
_OFFICIAL_PREFIX = "library/"

_NAME_RE = re.compile(NAME_PATTERN)
_TAG_RE = re.compile(TAG_PATTERN)
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST_RE = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid repository name; raise :class:`InvalidName` otherwise."""
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidName(
            f"repository name must not be longer than {NAME_MAX_LENGTH} characters",
            {"name": name, "length": len(name)},
        )
    if not _NAME_RE.fullmatch(name):
        raise InvalidName("invalid repository name", {"name": name})
    return name


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it is a valid tag; raise :class:`InvalidTag` otherwise."""
    if not _TAG_RE.fullmatch(tag):
        raise InvalidTag("invalid tag", {"tag": tag})
    return tag


def parse_reference(reference: str) -> Digest | str:
    """Parse the ``<reference>`` of a manifest URL: a :class:`Digest` if it has a ``:``, else a tag."""
    if ":" in reference:
        return parse_digest(reference)
    return validate_tag(reference)


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference; ``reference`` is what goes into a manifest URL (digest over tag)."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    @property
    def repository_ref(self) -> str:
        return f"{self.host}/{self.repository}"

    def with_tag(self, tag: str | None) -> ImageReference:
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> ImageReference:
        return replace(self, digest=digest)

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return f"{self.host}/{self.repository}{tag}{digest}"


def _split_host(reference: str, require_host: bool) -> tuple[str, str]:
    first, slash, rest = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        if not _HOST_RE.fullmatch(first):
            raise InvalidHost(f"invalid registry host {first!r}", {"host": first})
        return (DOCKER_HUB if first in _HUB_ALIASES else first), rest
    if require_host:
        raise InvalidHost(f"{reference!r} names no registry host (host[:port]/repository)", {"reference": reference})
    return DOCKER_HUB, reference


def parse_image_reference(text: str, *, require_host: bool = False) -> ImageReference:
    """Parse ``[host[:port]/]repository[:tag][@digest]`` with docker's defaults for host and ``library/``.

    Raises :class:`InvalidHost`, :class:`InvalidName`, :class:`InvalidTag` or :class:`InvalidDigest` for the
    bad part.
    """
    remainder, at, digest = text.partition("@")
    if at:
        digest = check_digest(digest)
    host, path = _split_host(remainder, require_host)
    repository, tag = path, None
    colon = path.rfind(":")
    if colon > path.rfind("/"):
        repository, tag = path[:colon], validate_tag(path[colon + 1 :])
    if host == DOCKER_HUB and "/" not in repository:
        repository = _OFFICIAL_PREFIX + repository
    validate_name(repository)
    return ImageReference(host, repository, tag, digest if at else None)


def hostname(host: str) -> str:
    """``host[:port]`` without the port (and without the brackets of an IPv6 literal)."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_loopback(host: str) -> bool:
    """Whether ``host[:port]`` names this machine (``localhost``, 127.0.0.0/8, ``[::1]``)."""
    name = hostname(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
