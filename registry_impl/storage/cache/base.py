"""The blob descriptor cache interface (distribution's ``BlobDescriptorCacheProvider``) and the null cache.

A cache answers two questions without touching storage:

* registry-wide (the provider itself): does blob data exist for a digest, and what is its descriptor?
* per repository (:meth:`BlobDescriptorCacheProvider.repository_scoped`): is the digest linked into this
  repository, and with which descriptor (the media type may differ per repository)?

Rules every backend keeps (checked by :mod:`registry_impl.storage.cache.conformance`):

* A miss is ``None``, never an exception. A backend that cannot reach its store logs the error and
  answers a miss (``stat``) or does nothing (``set_descriptor``, ``clear``): the cache may be lost, the
  registry must keep answering from storage.
* A repository-scoped hit needs *both* the repository's membership and the registry-wide entry, so
  clearing a digest registry-wide (its data is gone) hides it from every repository at once.
* The cache is only ever filled from storage; entries are removed with ``clear`` where storage loses a
  link or data. It stores no negative answers.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from registry_spec.params import DIGEST_PATTERN

__all__ = [
    "OCTET_STREAM",
    "BlobDescriptorCacheProvider",
    "BlobDescriptorService",
    "Descriptor",
    "NoCache",
    "validate_descriptor",
    "validate_repository",
]

OCTET_STREAM = "application/octet-stream"
_DIGEST_RE = re.compile(DIGEST_PATTERN)


@dataclass(frozen=True, slots=True)
class Descriptor:
    """What the cache knows of a blob: its canonical digest, size in bytes and media type."""

    digest: str
    size: int
    media_type: str = OCTET_STREAM


def validate_descriptor(digest: str, descriptor: Descriptor) -> None:
    """ValueError unless ``digest`` and ``descriptor.digest`` are well-formed and the size is not negative."""
    for value in (digest, descriptor.digest):
        if not _DIGEST_RE.fullmatch(value):
            raise ValueError(f"invalid digest {value!r}")
    if descriptor.size < 0:
        raise ValueError(f"invalid size {descriptor.size} for {descriptor.digest}")


def validate_repository(name: str) -> None:
    """ValueError for an empty name (callers pass names the API has already validated)."""
    if not name:
        raise ValueError("repository name must not be empty")


class BlobDescriptorService(ABC):
    """Digest → descriptor lookups over one scope (the whole registry, or one repository)."""

    @abstractmethod
    def stat(self, digest: str) -> Descriptor | None:
        """The cached descriptor for ``digest``, or ``None`` on a miss (or when the backend fails)."""

    @abstractmethod
    def set_descriptor(self, digest: str, descriptor: Descriptor) -> None:
        """Remember ``descriptor`` under ``digest``; ValueError for an invalid digest or descriptor.

        Registry-wide, the first media type stored for a digest is kept; a repository-scoped set also
        records membership, its own media type, and the registry-wide entry. When ``digest`` and
        ``descriptor.digest`` differ (another algorithm), the canonical digest is stored registry-wide too.
        """

    @abstractmethod
    def clear(self, digest: str) -> None:
        """Forget ``digest`` in this scope; clearing what is not cached is a no-op."""


class BlobDescriptorCacheProvider(BlobDescriptorService):
    """The registry-wide service, and the factory of per-repository ones.

    Registry-wide :meth:`clear` means "the blob data is gone": every repository then misses it.
    A repository-scoped ``clear`` means "no longer linked here": other repositories keep their hits.
    """

    #: Whether each call is a blocking network round trip (the API then calls it in a worker thread).
    remote: ClassVar[bool] = False

    @abstractmethod
    def repository_scoped(self, name: str) -> BlobDescriptorService:
        """The service for repository ``name`` (ValueError for an empty name); cheap, made per request."""


class _NoScope(BlobDescriptorService):
    def stat(self, digest: str) -> Descriptor | None:
        return None

    def set_descriptor(self, digest: str, descriptor: Descriptor) -> None:
        return None

    def clear(self, digest: str) -> None:
        return None


class NoCache(_NoScope, BlobDescriptorCacheProvider):
    """Caching disabled (``storage.cache.blobdescriptor: ""``): every stat is a miss."""

    _scope = _NoScope()

    def repository_scoped(self, name: str) -> BlobDescriptorService:
        validate_repository(name)
        return self._scope
