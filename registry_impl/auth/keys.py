"""Token-signing keys: the trusted roots and JWKS the token controller loads, key identifiers, and which
signature algorithm fits which key.

Key identifiers, as distribution looks up a token's ``kid``:

* ``libtrust_key_id``: distribution 2.x (libtrust): SHA-256 of the DER SubjectPublicKeyInfo, first
  240 bits, base32, in twelve ``:``-separated groups of four (``ABCD:EFGH:…``);
* ``jwk_thumbprint``: distribution 3 (RFC 7638): SHA-256 of the key's required JWK members, base64url.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt import PyJWK, PyJWKError
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from registry_impl.config import ConfigError

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "DEFAULT_ALGORITHMS",
    "HMAC_ALGORITHMS",
    "PublicKey",
    "algorithm_fits",
    "as_public_key",
    "jwk_thumbprint",
    "libtrust_key_id",
    "load_jwks",
    "load_root_certificates",
    "public_jwk",
    "signing_algorithms",
    "trusted_keys",
]

log = logging.getLogger("registry.auth")

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey

_EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
_RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
ASYMMETRIC_ALGORITHMS: tuple[str, ...] = ("EdDSA", *_RSA, *_EC_CURVES)
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
# distribution's default list minus HMAC, which can never verify with the public keys it trusts.
DEFAULT_ALGORITHMS = ASYMMETRIC_ALGORITHMS


def signing_algorithms(configured: Sequence[str] | None) -> tuple[str, ...]:
    """The allow-list from ``auth.token.signingalgorithms`` (the default when empty).

    HMAC names are dropped with a warning (a shared secret is not a public key); anything else
    distribution does not know (``none`` included) stops startup.
    """
    if not configured:
        return DEFAULT_ALGORITHMS
    allowed: list[str] = []
    for name in configured:
        if name in HMAC_ALGORITHMS:
            log.warning(
                "auth.token.signingalgorithms: %s ignored: HMAC cannot verify with a public key", name
            )
        elif name in ASYMMETRIC_ALGORITHMS:
            allowed.append(name)
        else:
            raise ConfigError("auth.token.signingalgorithms", f"unsupported signing algorithm: {name}")
    if not allowed:
        raise ConfigError("auth.token.signingalgorithms", "no usable (asymmetric) signing algorithm")
    return tuple(allowed)


def algorithm_fits(algorithm: str, key: object) -> bool:
    """Whether ``algorithm`` is an asymmetric JWS algorithm made for ``key``'s type (and curve)."""
    if algorithm in _RSA:
        return isinstance(key, rsa.RSAPublicKey)
    if algorithm in _EC_CURVES:
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _EC_CURVES[algorithm])
    if algorithm == "EdDSA":
        return isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    return False


def libtrust_key_id(key: PublicKey) -> str:
    """distribution 2.x's key fingerprint (see the module docstring)."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def public_jwk(key: PublicKey) -> dict[str, Any]:
    """``key`` as a JWK (public members only)."""
    if isinstance(key, rsa.RSAPublicKey):
        return dict(RSAAlgorithm.to_jwk(key, as_dict=True))  # type: ignore[arg-type]
    if isinstance(key, ec.EllipticCurvePublicKey):
        return dict(ECAlgorithm.to_jwk(key, as_dict=True))  # type: ignore[arg-type]
    return dict(OKPAlgorithm.to_jwk(key, as_dict=True))  # type: ignore[arg-type]


def jwk_thumbprint(key: PublicKey) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url without padding)."""
    jwk = public_jwk(key)
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def as_public_key(key: object) -> PublicKey | None:
    """``key`` if it is a public key this module can verify with, else None."""
    if isinstance(
        key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
    ):
        return key
    return None


def load_root_certificates(path: str) -> list[x509.Certificate]:
    """Every CERTIFICATE block of a PEM bundle (``auth.token.rootcertbundle``)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(
            "auth.token.rootcertbundle",
            f"unable to read token auth root certificate bundle file {path!r}: {exc}",
        ) from exc
    try:
        return x509.load_pem_x509_certificates(data) if b"-----BEGIN CERTIFICATE-----" in data else []
    except ValueError as exc:
        raise ConfigError(
            "auth.token.rootcertbundle", f"unable to parse token auth root certificate: {exc}"
        ) from exc


def load_jwks(path: str) -> dict[str, PublicKey]:
    """``kid → public key`` of a JWKS file (``auth.token.jwks``); keys without ``kid`` or not public are skipped."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError("auth.token.jwks", f"unable to read jwks file {path!r}: {exc}") from exc
    keys: dict[str, PublicKey] = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        kid = entry.get("kid") if isinstance(entry, dict) else None
        if not isinstance(kid, str) or not kid:
            continue
        try:
            loaded = PyJWK(entry).key
        except (PyJWKError, ValueError, TypeError) as exc:
            raise ConfigError("auth.token.jwks", f"failed to parse jwks key {kid!r}: {exc}") from exc
        public = as_public_key(loaded)
        if public is None and hasattr(loaded, "public_key"):
            public = as_public_key(loaded.public_key())  # a private JWK: trust its public half only
        if public is not None:
            keys[kid] = public
    return keys


def trusted_keys(roots: Iterable[x509.Certificate], jwks: dict[str, PublicKey]) -> dict[str, PublicKey]:
    """What a ``kid`` may name: each root's key under both fingerprints, then each JWKS key under its kid."""
    keys: dict[str, PublicKey] = {}
    for cert in roots:
        public = as_public_key(cert.public_key())
        if public is not None:
            keys[libtrust_key_id(public)] = public
            keys[jwk_thumbprint(public)] = public
    keys.update(jwks)
    return keys
