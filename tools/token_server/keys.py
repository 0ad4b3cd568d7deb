"""The token server's signing key and certificate: loaded when given, generated on first run otherwise.

A generated pair is an EC P-256 key (``ES256``) and a self-signed certificate naming the issuer;
that certificate is what registries trust (``auth.token.rootcertbundle``), and every token carries
it in its ``x5c`` header. RSA (``RS256``) and Ed25519 (``EdDSA``) keys may be given instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from registry_impl.auth.keys import as_public_key, libtrust_key_id

__all__ = ["SigningKey", "SigningKeyError", "generate", "load_or_generate"]

CERTIFICATE_DAYS = 3650
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class SigningKeyError(ValueError):
    """The signing key or certificate cannot be used."""


@dataclass(frozen=True)
class SigningKey:
    key: PrivateKey
    certificate: x509.Certificate

    @property
    def algorithm(self) -> str:
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return _EC_ALGORITHMS[self.key.curve.name]
        if isinstance(self.key, rsa.RSAPrivateKey):
            return "RS256"
        return "EdDSA"

    @property
    def key_id(self) -> str:
        public = as_public_key(self.key.public_key())
        assert public is not None
        return libtrust_key_id(public)

    def x5c(self) -> list[str]:
        return [base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()]

    def header(self) -> dict[str, object]:
        return {"kid": self.key_id, "x5c": self.x5c()}


def generate(issuer: str) -> SigningKey:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or "registry-token-server")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key, certificate)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def load_or_generate(key_path: Path, certificate_path: Path, issuer: str) -> tuple[SigningKey, bool]:
    """The pair at these paths, or a new one written there when neither exists; (pair, generated)."""
    if not key_path.exists() and not certificate_path.exists():
        pair = generate(issuer)
        pem = pair.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write(key_path, pem, 0o600)
        _write(certificate_path, pair.certificate.public_bytes(serialization.Encoding.PEM), 0o644)
        return pair, True
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"cannot load the signing key {key_path} and certificate {certificate_path}: {exc}"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise SigningKeyError(f"{key_path}: unsupported key type {type(key).__name__}")
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name not in _EC_ALGORITHMS:
        raise SigningKeyError(f"{key_path}: unsupported curve {key.curve.name}")
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*der) != certificate.public_key().public_bytes(*der):
        raise SigningKeyError(f"{certificate_path} does not certify the key in {key_path}")
    return SigningKey(key, certificate), False
