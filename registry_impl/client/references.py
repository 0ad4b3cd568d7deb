"""Image references ``host[:port]/repository[:tag][@digest]`` and digests, with the descriptor's grammars.

The grammars come from ``registry_spec.params`` (the server validates with the same ones); the parsing is the
client's own so the client depends on nothing but the spec package and httpx. Host rules are docker's: the first
``/``-separated component is a registry host when it has a ``.`` or a ``:`` or is ``localhost``; otherwise the
host is Docker Hub and one-component names get ``library/``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, replace

from registry_spec.params import DIGEST_PATTERN, NAME_MAX_LENGTH, NAME_PATTERN, TAG_PATTERN

from registry_impl.client.errors import ReferenceInvalid

__all__ = [
    "DOCKER_HUB",
    "ImageReference",
    "base_url",
    "check_digest",
    "digest_of",
    "hostname",
    "is_loopback",
    "parse_reference",
    "validate_name",
]

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_NAME_RE = re.compile(NAME_PATTERN)
_TAG_RE = re.compile(TAG_PATTERN)
_DIGEST_RE = re.compile(DIGEST_PATTERN)
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_HOST_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)


def check_digest(value: str) -> str:
    """Return ``value`` if it is a digest of a registered algorithm with the right length, else raise."""
    if not _DIGEST_RE.fullmatch(value):
        raise ReferenceInvalid(f"invalid digest {value!r}")
    algorithm, _, encoded = value.partition(":")
    length = _HEX_LENGTH.get(algorithm)
    if length is None:
        raise ReferenceInvalid(f"unsupported digest algorithm in {value!r}")
    if len(encoded) != length or not re.fullmatch(r"[a-f0-9]+", encoded):
        raise ReferenceInvalid(f"invalid {algorithm} digest {value!r}")
    return value


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def validate_name(name: str) -> str:
    if len(name) > NAME_MAX_LENGTH or not _NAME_RE.fullmatch(name):
        raise ReferenceInvalid(f"invalid repository name {name!r}")
    return name


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


def parse_reference(text: str, *, require_host: bool = False) -> ImageReference:
    """Parse ``[host[:port]/]repository[:tag][@digest]``; raise :class:`ReferenceInvalid` naming the bad part."""
    remainder, at, digest = text.partition("@")
    if at:
        check_digest(digest)
    first, slash, rest = remainder.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        if not _HOST_RE.fullmatch(first):
            raise ReferenceInvalid(f"invalid registry host {first!r}")
        host, path = first, rest
        if host in ("index.docker.io", "registry-1.docker.io"):
            host = DOCKER_HUB
    elif require_host:
        raise ReferenceInvalid(f"{text!r} names no registry host (host[:port]/repository)")
    else:
        host, path = DOCKER_HUB, remainder
    repository, tag = path, None
    colon = path.rfind(":")
    if colon > path.rfind("/"):
        repository, tag = path[:colon], path[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise ReferenceInvalid(f"invalid tag {tag!r}")
    if host == DOCKER_HUB and "/" not in repository:
        repository = "library/" + repository
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


def base_url(host: str, *, insecure: bool = False) -> str:
    """The API base URL of a registry host: plain HTTP for loopback hosts and with ``insecure``, else HTTPS."""
    api_host = DOCKER_HUB_API if host == DOCKER_HUB else host
    scheme = "http" if insecure or is_loopback(host) else "https"
    return f"{scheme}://{api_host}"
