"""``auth.token``: Bearer JSON Web Tokens from a token server, verified as distribution verifies them.

A token passes when, in this order: it parses (three base64url parts of JSON: else "malformed");
its ``alg`` is on the allow-list and fits the key (never ``none``, never HMAC); its signing key is
found — the ``x5c`` chain verified up to a ``rootcertbundle`` certificate, else a ``jwk`` header that
is itself trusted, else ``kid`` naming a root's key (libtrust or RFC 7638 fingerprint) or a JWKS
key; the signature verifies; ``iss`` is the configured issuer and ``aud`` the service; ``exp``,
``nbf`` and ``iat`` hold with 60 s leeway. Then each access record the request needs must be in its
``access`` claim (``*`` grants every action). Failures answer 401 with the Bearer challenge, with
``error="invalid_token"`` or ``error="insufficient_scope"`` as distribution adds them.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification

from registry_impl.auth.base import (
    Access,
    AccessController,
    Challenge,
    Grant,
    Resource,
    go_quote,
    option,
    scope_param,
)
from registry_impl.auth.keys import (
    PublicKey,
    algorithm_fits,
    as_public_key,
    jwk_thumbprint,
    libtrust_key_id,
    load_jwks,
    load_root_certificates,
    signing_algorithms,
    trusted_keys,
)
from registry_impl.config import ConfigError

__all__ = ["LEEWAY", "Claims", "InvalidToken", "MalformedToken", "TokenAccessController", "TokenVerifier"]

log = logging.getLogger("registry.auth")

LEEWAY = 60  # seconds, for exp / nbf / iat (distribution's Leeway)
DEFAULT_AUTOREDIRECT_PATH = "/auth/token"
_CACHE_LIMIT = 1024


class InvalidToken(Exception):
    """The token cannot be trusted (the reason is logged, never sent)."""


class MalformedToken(InvalidToken):
    """The token is not a compact JWS of JSON."""


@dataclass(frozen=True)
class Claims:
    """What a verified token says: who, until when, and which actions on which resources."""

    subject: str
    expires: float
    not_before: float | None
    access: Mapping[tuple[str, str], frozenset[str]]

    def allows(self, item: Access) -> bool:
        actions = self.access.get((item.type, item.name), frozenset())
        return "*" in actions or item.action in actions

    def resources(self) -> tuple[Resource, ...]:
        return tuple(Resource(kind, name) for kind, name in self.access)


def _access_claim(value: Any) -> dict[tuple[str, str], frozenset[str]]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise MalformedToken("access claim is not a list")
    granted: dict[tuple[str, str], set[str]] = {}
    for entry in value:
        if not isinstance(entry, dict):
            raise MalformedToken("access claim entry is not an object")
        kind, name, actions = entry.get("type", ""), entry.get("name", ""), entry.get("actions") or []
        if not (isinstance(kind, str) and isinstance(name, str) and isinstance(actions, list)):
            raise MalformedToken("access claim entry has wrong types")
        granted.setdefault((kind, name), set()).update(a for a in actions if isinstance(a, str))
    return {key: frozenset(actions) for key, actions in granted.items()}


def _ca_constraints(_policy: Any, _cert: Any, constraints: x509.BasicConstraints | None) -> None:
    if constraints is None or not constraints.ca:
        raise ValueError("an issuing certificate must be a CA")


class TokenVerifier:
    """Verifies raw tokens for one issuer and service; verified tokens are remembered until they expire."""

    def __init__(
        self,
        issuer: str,
        service: str,
        roots: Sequence[x509.Certificate],
        keys: Mapping[str, PublicKey],
        algorithms: Sequence[str],
        *,
        leeway: int = LEEWAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.service = service
        self.roots = list(roots)
        self.keys = dict(keys)
        self.algorithms = tuple(algorithms)
        self.leeway = leeway
        self.clock = clock
        self._verified: dict[str, Claims] = {}

    def verify(self, raw: str) -> Claims:
        claims = self._verified.get(raw)
        if claims is None:
            claims = self._verify_fully(raw)
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[raw] = claims
        now = self.clock()
        if now > claims.expires + self.leeway:
            self._verified.pop(raw, None)
            raise InvalidToken("token expired")
        if claims.not_before is not None and now < claims.not_before - self.leeway:
            raise InvalidToken("token not valid yet")
        return claims

    def _verify_fully(self, raw: str) -> Claims:
        if raw.count(".") != 2:
            raise MalformedToken("not three dot-separated parts")
        try:
            header = jwt.get_unverified_header(raw)
        except jwt.DecodeError as exc:
            raise MalformedToken(f"unreadable header: {exc}") from exc
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise InvalidToken(f"signing algorithm {algorithm!r} is not allowed")
        key = self._signing_key(header)
        if not algorithm_fits(algorithm, key):
            raise InvalidToken(f"signing algorithm {algorithm} does not fit the signing key")
        try:
            payload = jwt.decode(
                raw,
                key=key,
                algorithms=[algorithm],
                audience=self.service,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"], "verify_sub": False, "verify_jti": False},
            )
        except jwt.DecodeError as exc:
            if isinstance(exc, jwt.InvalidSignatureError):
                raise InvalidToken(f"signature: {exc}") from exc
            raise MalformedToken(f"unreadable token: {exc}") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from exc
        subject = payload.get("sub", "")
        not_before = payload.get("nbf")
        return Claims(
            subject=subject if isinstance(subject, str) else "",
            expires=float(payload["exp"]),
            not_before=float(not_before) if isinstance(not_before, int | float) else None,
            access=_access_claim(payload.get("access")),
        )

    def _signing_key(self, header: Mapping[str, Any]) -> PublicKey:
        x5c, jwk, kid = header.get("x5c"), header.get("jwk"), header.get("kid")
        if x5c:
            return self._chain_key(x5c)
        if jwk is not None:
            return self._jwk_key(jwk)
        if isinstance(kid, str) and kid:
            key = self.keys.get(kid)
            if key is None:
                raise InvalidToken(f"token signed by untrusted key with ID: {kid!r}")
            return key
        raise InvalidToken("unable to get token signing key")

    def _chain_key(self, x5c: Any) -> PublicKey:
        if not isinstance(x5c, list) or not all(isinstance(c, str) and c for c in x5c):
            raise InvalidToken("malformed x5c certificate chain")
        if not self.roots:
            raise InvalidToken("no root certificates to verify an x5c chain against")
        try:
            chain = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
        except (ValueError, binascii.Error) as exc:
            raise InvalidToken(f"unable to parse x5c certificate: {exc}") from exc
        policy = verification.ExtensionPolicy
        verifier = (
            verification.PolicyBuilder()
            .store(verification.Store(self.roots))
            .time(datetime.fromtimestamp(self.clock(), UTC))
            .extension_policies(
                ca_policy=policy.permit_all().require_present(
                    x509.BasicConstraints, verification.Criticality.AGNOSTIC, _ca_constraints
                ),
                ee_policy=policy.permit_all(),
            )
            .build_client_verifier()
        )
        try:
            verifier.verify(chain[0], chain[1:])
        except (verification.VerificationError, ValueError) as exc:
            raise InvalidToken(f"unable to verify certificate chain: {exc}") from exc
        key = as_public_key(chain[0].public_key())
        if key is None:
            raise InvalidToken("unsupported leaf certificate key")
        return key

    def _jwk_key(self, jwk: Any) -> PublicKey:
        if not isinstance(jwk, dict):
            raise InvalidToken("malformed jwk header")
        try:
            key = as_public_key(jwt.PyJWK(jwk).key)
        except (jwt.PyJWKError, ValueError, TypeError) as exc:
            raise InvalidToken(f"unable to decode raw JWK value: {exc}") from exc
        if key is None:
            raise InvalidToken("jwk header is not a public key")
        if "x5c" in jwk:
            leaf = self._chain_key(jwk["x5c"])
            if _der(leaf) != _der(key):
                raise InvalidToken("leaf certificate public key does not match the JWK")
            return key
        for kid in (libtrust_key_id(key), jwk_thumbprint(key)):
            trusted = self.keys.get(kid)
            if trusted is not None and _der(trusted) == _der(key):
                return trusted
        raise InvalidToken("untrusted JWK with no certificate chain")


def _der(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class TokenAccessController(AccessController):
    def __init__(
        self,
        realm: str,
        service: str,
        verifier: TokenVerifier,
        *,
        autoredirect: bool = False,
        autoredirect_path: str = DEFAULT_AUTOREDIRECT_PATH,
    ) -> None:
        self.realm = realm
        self.service = service
        self.verifier = verifier
        self.autoredirect = autoredirect
        self.autoredirect_path = autoredirect_path

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TokenAccessController:
        realm, issuer, service = (option(params, name, "token") for name in ("realm", "issuer", "service"))
        bundle, jwks_path = (
            option(params, "rootcertbundle", "token", False),
            option(params, "jwks", "token", False),
        )
        roots = load_root_certificates(bundle) if bundle else []
        jwks = load_jwks(jwks_path) if jwks_path else {}
        if not roots and not jwks:
            raise ConfigError("auth.token", "token auth requires at least one token signing key")
        configured = params.get("signingalgorithms")
        if configured is not None and not isinstance(configured, list):
            raise ConfigError("auth.token.signingalgorithms", "must be a list of signing algorithms")
        autoredirect = params.get("autoredirect", False)
        if not isinstance(autoredirect, bool):
            raise ConfigError("auth.token.autoredirect", "token auth requires a valid option bool")
        verifier = TokenVerifier(
            issuer, service, roots, trusted_keys(roots, jwks), signing_algorithms(configured)
        )
        path = option(params, "autoredirectpath", "token", False) or DEFAULT_AUTOREDIRECT_PATH
        return cls(realm, service, verifier, autoredirect=autoredirect, autoredirect_path=path)

    def realm_for(self, headers: Mapping[str, str]) -> str:
        """The configured realm, or with ``autoredirect`` this registry's own ``/auth/token`` URL."""
        if not self.autoredirect:
            return self.realm
        scheme = headers.get("x-forwarded-proto") or "https"
        return f"{scheme}://{headers.get('host', '')}{self.autoredirect_path}"

    def challenge(
        self, headers: Mapping[str, str], access: Sequence[Access], reason: str, error: str = ""
    ) -> Challenge:
        value = f"Bearer realm={go_quote(self.realm_for(headers))},service={go_quote(self.service)}"
        scope = scope_param(access)
        if scope:
            value += f",scope={go_quote(scope)}"
        if error:
            value += f",error={go_quote(error)}"
        return Challenge(value, reason, access)

    async def authorized(self, headers: Mapping[str, str], access: Sequence[Access]) -> Grant:
        prefix, _, raw = headers.get("authorization", "").partition(" ")
        if not raw or prefix.lower() != "bearer":
            raise self.challenge(headers, access, "authorization token required")
        try:
            claims = self.verifier.verify(raw)
        except InvalidToken as exc:
            log.info("token refused: %s", exc)
            raise self.challenge(headers, access, str(exc), "invalid_token") from None
        for item in access:
            if not claims.allows(item):
                raise self.challenge(headers, access, "insufficient scope", "insufficient_scope")
        return Grant(user=claims.subject, resources=claims.resources())
