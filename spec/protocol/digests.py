"""Content digests: the OCI ``algorithm:encoded`` grammar, parsing, hashing and verification (no I/O)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from registry_spec.protocol.errors import InvalidDigest

__all__ = [
    "DIGEST_PATTERN",
    "SUPPORTED_ALGORITHMS",
    "Digest",
    "DigestVerifier",
    "Hasher",
    "check_digest",
    "digest_of",
    "new_hasher",
    "parse_digest",
]

#: The OCI image-spec digest grammar, ``algorithm ":" encoded``, as the descriptor declares it.
from registry_spec.params import DIGEST_PATTERN

_DIGEST_RE = re.compile(DIGEST_PATTERN)


class Hasher(Protocol):
    """The part of a :mod:`hashlib` object this package relies on."""

    @property
    def name(self) -> str: ...

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class _Algorithm:
    """A registered algorithm: how to hash, and what its encoded part must look like."""

    factory: Callable[[], Hasher]
    encoded: re.Pattern[str]


_ALGORITHMS: dict[str, _Algorithm] = {
    "sha256": _Algorithm(hashlib.sha256, re.compile(r"[a-f0-9]{64}")),
    "sha512": _Algorithm(hashlib.sha512, re.compile(r"[a-f0-9]{128}")),
}

#: The algorithms registered by the OCI image spec; any other well-formed one is "unsupported".
SUPPORTED_ALGORITHMS: tuple[str, ...] = tuple(_ALGORITHMS)


@dataclass(frozen=True, order=True)
class Digest:
    """A parsed, validated digest; ``str(digest)`` gives back its canonical form."""

    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def encoded(self) -> str:
        """The image spec's name for :attr:`hex`."""
        return self.hex


def parse_digest(value: str) -> Digest:
    """Parse ``algorithm:encoded``; raise :class:`InvalidDigest` if malformed, unsupported or wrong length."""
    if not _DIGEST_RE.fullmatch(value):
        raise InvalidDigest("invalid digest format", {"digest": value})
    algorithm, _, encoded = value.partition(":")
    registered = _ALGORITHMS.get(algorithm)
    if registered is None:
        raise InvalidDigest(f"unsupported digest algorithm {algorithm!r}", {"digest": value})
    if not registered.encoded.fullmatch(encoded):
        raise InvalidDigest(
            f"invalid {algorithm} digest: encoded part must be lowercase hex of the right length",
            detail={"digest": value},
        )
    return Digest(algorithm, encoded)


def new_hasher(algorithm: str = "sha256") -> Hasher:
    """Return a fresh hash object for a registered algorithm; raise :class:`InvalidDigest` otherwise."""
    registered = _ALGORITHMS.get(algorithm)
    if registered is None:
        raise InvalidDigest(f"unsupported digest algorithm {algorithm!r}", {"algorithm": algorithm})
    return registered.factory()


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """Return the canonical digest string of ``data``."""
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return f"{algorithm}:{hasher.hexdigest()}"


class DigestVerifier:
    """Hash content fed in pieces and tell whether it matches an expected digest."""

    def __init__(self, expected: Digest | str) -> None:
        self.expected = expected if isinstance(expected, Digest) else parse_digest(expected)
        self._hasher = new_hasher(self.expected.algorithm)
        self.size = 0

    def update(self, data: bytes) -> None:
        """Feed the next piece of content."""
        self._hasher.update(data)
        self.size += len(data)

    @property
    def actual(self) -> Digest:
        """The digest of everything fed so far, in the expected digest's algorithm."""
        return Digest(self.expected.algorithm, self._hasher.hexdigest())

    def verified(self) -> bool:
        """Whether the content fed so far has the expected digest."""
        return self.actual == self.expected


def check_digest(value: str) -> str:
    """Return ``value`` if it parses as a digest (see :func:`parse_digest`), else raise :class:`InvalidDigest`."""
    return str(parse_digest(value))
