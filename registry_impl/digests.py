"""Content digests for the server: the protocol core's digests, failing with the registry's ``DIGEST_INVALID``.

Parsing, hashing and verification live in :mod:`registry_spec.protocol.digests` (shared with the client and the
tools); this module only turns the core's :class:`~registry_spec.protocol.errors.InvalidDigest` into
:class:`~registry_impl.errors.DigestInvalid`.
"""

from __future__ import annotations

from registry_spec.protocol import digests as _core
from registry_spec.protocol.digests import DIGEST_PATTERN, SUPPORTED_ALGORITHMS, Digest, Hasher
from registry_spec.protocol.errors import InvalidDigest

from registry_impl.errors import DigestInvalid

__all__ = [
    "DIGEST_PATTERN",
    "SUPPORTED_ALGORITHMS",
    "Digest",
    "DigestVerifier",
    "Hasher",
    "digest_of",
    "new_hasher",
    "parse_digest",
]


def parse_digest(value: str) -> Digest:
    """Parse ``algorithm:encoded``; raise :class:`DigestInvalid` if malformed, unsupported or wrong length."""
    try:
        return _core.parse_digest(value)
    except InvalidDigest as exc:
        raise DigestInvalid(exc.message, detail=exc.detail) from exc


def new_hasher(algorithm: str = "sha256") -> Hasher:
    """Return a fresh hash object for a registered algorithm; raise :class:`DigestInvalid` otherwise."""
    try:
        return _core.new_hasher(algorithm)
    except InvalidDigest as exc:
        raise DigestInvalid(exc.message, detail=exc.detail) from exc


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """Return the canonical digest string of ``data``."""
    new_hasher(algorithm)  # DigestInvalid for an unregistered algorithm
    return _core.digest_of(data, algorithm)


class DigestVerifier(_core.DigestVerifier):
    """The core's verifier, refusing a malformed expected digest with :class:`DigestInvalid`."""

    def __init__(self, expected: Digest | str) -> None:
        super().__init__(expected if isinstance(expected, Digest) else parse_digest(expected))
