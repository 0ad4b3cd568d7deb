"""Crafted registry tokens: a signer with a self-signed certificate (the registry's ``rootcertbundle``)
that mints valid tokens and, with overrides, every kind of bad one.

    signer = Signer.create(tmp_path, issuer="test-issuer", service="test-registry")
    signer.token([("repository", "org/app", ["pull"])])              # valid, with x5c
    signer.token(access, claims={"exp": 0})                           # expired
    signer.token(access, header="kid")                                # kid (libtrust fingerprint), no x5c
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from registry_impl.auth.keys import jwk_thumbprint, libtrust_key_id, public_jwk

AccessSpec = Iterable[tuple[str, str, list[str]]]
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def self_signed(
    key: SigningKey, name: str, *, ca: bool = False, issuer: tuple[x509.Name, SigningKey] | None = None
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def der_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@dataclass
class Signer:
    key: SigningKey
    certificate: x509.Certificate
    issuer: str
    service: str
    bundle: Path
    algorithm: str = "ES256"

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        issuer: str = "test-issuer",
        service: str = "test-registry",
        rsa_key: bool = False,
    ) -> Signer:
        key: SigningKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if rsa_key
            else ec.generate_private_key(ec.SECP256R1())
        )
        certificate = self_signed(key, issuer)
        directory.mkdir(parents=True, exist_ok=True)
        bundle = directory / f"{issuer}-root.pem"
        bundle.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(key, certificate, issuer, service, bundle, "RS256" if rsa_key else "ES256")

    @property
    def libtrust_kid(self) -> str:
        return libtrust_key_id(self.key.public_key())

    @property
    def thumbprint(self) -> str:
        return jwk_thumbprint(self.key.public_key())

    def jwks(self, kid: str = "jwks-key") -> dict[str, Any]:
        return {"keys": [{**public_jwk(self.key.public_key()), "kid": kid}]}

    def claims(self, access: AccessSpec = (), overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Valid claims granting ``access``; ``overrides`` replace claims (None removes one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "alice",
            "aud": self.service,
            "exp": now + 300,
            "nbf": now,
            "iat": now,
            "jti": "test",
            "access": [{"type": t, "name": n, "actions": a} for t, n, a in access],
        }
        for name, value in (overrides or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def token(
        self,
        access: AccessSpec = (),
        *,
        claims: Mapping[str, Any] | None = None,
        header: str = "x5c",
        headers: Mapping[str, Any] | None = None,
        key: SigningKey | None = None,
        algorithm: str | None = None,
        chain: list[x509.Certificate] | None = None,
    ) -> str:
        """A token granting ``access``; ``header`` picks how it names its key: x5c, kid, thumbprint, jwk, none."""
        extra: dict[str, Any] = {}
        if header == "x5c":
            extra["x5c"] = [der_b64(c) for c in (chain or [self.certificate])]
        elif header == "kid":
            extra["kid"] = self.libtrust_kid
        elif header == "thumbprint":
            extra["kid"] = self.thumbprint
        elif header == "jwk":
            extra["jwk"] = public_jwk(self.key.public_key())
        extra.update(headers or {})
        body = self.claims(access, claims)
        return jwt.encode(body, key or self.key, algorithm=algorithm or self.algorithm, headers=extra)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def compact(header: Mapping[str, Any], claims: Mapping[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS assembled by hand, signed by ``sign`` (for tokens no library will produce)."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"
