"""Docker schema 1 signed manifests (``application/vnd.docker.distribution.manifest.v1+prettyjws``), for migrations.

A schema 1 manifest is a JSON document carrying, in its top-level ``signatures``, libtrust's "pretty" JWS: each
signature's protected header names ``formatLength`` and ``formatTail``, from which the *payload* (the document
as it was before the signatures were spliced in) is rebuilt: ``content[:formatLength] + formatTail``. The
manifest's digest is that of the payload, which is also what distribution 2.x stores as the manifest's blob.
Signatures are verified against the JWK in each header (EC P-256/384/521 with ES256/384/512, RSA with
RS256/384/512), with ``cryptography``; an unsigned or badly signed manifest is ``ManifestUnverified``.
``cryptography`` (~7 MiB of a worker's memory) is imported on first use: a registry that never sees a
schema 1 manifest never loads it, and the key signing old manifests is generated when first needed.

``sign`` is the other side (what docker 1.x and libtrust did): tests and migration tools use it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from registry_impl.config.errors import ConfigError
from registry_impl.errors import ManifestInvalid, ManifestUnverified

__all__ = [
    "MEDIA_TYPE",
    "PrivateKey",
    "Schema1",
    "Schema1Policy",
    "key_id",
    "load_key",
    "parse_signed",
    "payload_of",
    "policy_from",
    "sign",
    "sign_payload",
]

MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v1+prettyjws"
CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def __getattr__(name: str) -> Any:
    if name == "PrivateKey":  # the type, for callers' annotations, without importing cryptography here
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        return ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _hashes() -> dict[str, type[hashes.HashAlgorithm]]:
    from cryptography.hazmat.primitives import hashes

    return {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


@functools.cache
def _curves() -> dict[str, tuple[ec.EllipticCurve, str, int]]:
    from cryptography.hazmat.primitives.asymmetric import ec

    return {
        "P-256": (ec.SECP256R1(), "256", 32),
        "P-384": (ec.SECP384R1(), "384", 48),
        "P-521": (ec.SECP521R1(), "512", 66),
    }


@functools.cache
def _generated_key() -> PrivateKey:
    """This process's signing key when no ``signingkeyfile`` is configured (made on first use)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class Schema1Policy:
    """``compatibility.schema1``: pushes accepted only when ``enabled``; ``key`` signs the manifests an older
    registry stored without their signatures (``signing_key``, from ``signingkeyfile``, else one generated
    for this process when first needed)."""

    enabled: bool = False
    signing_key: PrivateKey | None = None

    @property
    def key(self) -> PrivateKey:
        return self.signing_key if self.signing_key is not None else _generated_key()


def policy_from(settings: Mapping[str, Any]) -> Schema1Policy:
    """``compatibility.schema1`` (``enabled``, ``signingkeyfile``) as a policy; an unreadable key is named."""
    path = settings.get("signingkeyfile")
    if not path:
        return Schema1Policy(enabled=bool(settings.get("enabled", False)))
    try:
        key = load_key(str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError("compatibility.schema1.signingkeyfile", f"cannot load {path}: {exc}") from None
    return Schema1Policy(enabled=bool(settings.get("enabled", False)), signing_key=key)


def load_key(path: str) -> PrivateKey:
    """A libtrust private key file: PEM (its ``keyID:`` header lines are skipped) or a JWK (``.json``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    with open(path, "rb") as f:
        data = f.read()
    if data.lstrip().startswith(b"{"):
        jwk = json.loads(data)
        if jwk.get("kty") == "EC":
            curve = _curves()[jwk["crv"]][0]
            public = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve)
            return ec.EllipticCurvePrivateNumbers(_int(jwk["d"]), public).private_key()
        raise ValueError("only EC keys are read from JWK files; give RSA keys as PEM")
    lines = [line for line in data.splitlines() if b":" not in line]
    key = serialization.load_pem_private_key(b"\n".join(lines) + b"\n", password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("the key must be an EC or RSA private key")
    return key


@dataclass(frozen=True)
class Schema1:
    """A verified schema 1 manifest: its payload (digested), the layers it references, name and tag."""

    payload: bytes
    name: str
    tag: str
    layers: tuple[str, ...]

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.payload).hexdigest()


def key_id(public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> str:
    """libtrust's key ID: the first 240 bits of the SHA-256 of the key's DER SubjectPublicKeyInfo, base32, in
    twelve groups of four joined by ``:`` (distribution refuses a JWK whose ``kid`` is not this)."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(text[i : i + 4] for i in range(0, 48, 4))


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(text: str) -> int:
    return int.from_bytes(_b64decode(text), "big")


def _unverified(message: str, **detail: Any) -> ManifestUnverified:
    return ManifestUnverified(message, detail=detail or None)


def payload_of(content: bytes) -> tuple[bytes, list[dict[str, Any]]]:
    """The payload the signatures cover, and the signatures (ManifestUnverified when there are none or their
    protected headers disagree on the payload)."""
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise ManifestInvalid("schema1 manifest is not JSON", detail={"reason": str(exc)}) from exc
    signatures = document.get("signatures") if isinstance(document, dict) else None
    if not isinstance(signatures, list) or not signatures:
        raise _unverified("schema1 manifest is not signed")
    payloads = set()
    for signature in signatures:
        try:
            protected = json.loads(_b64decode(signature["protected"]))
            length, tail = int(protected["formatLength"]), _b64decode(protected["formatTail"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _unverified("schema1 signature has no valid protected header") from exc
        if not 0 < length <= len(content):
            raise _unverified("schema1 signature's formatLength is out of range")
        payloads.add(content[:length] + tail)
    if len(payloads) != 1:
        raise _unverified("schema1 signatures cover different payloads")
    return payloads.pop(), signatures


def _verify_one(signature: dict[str, Any], payload: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    header = signature.get("header")
    if not isinstance(header, dict) or not isinstance(header.get("jwk"), dict):
        raise _unverified("schema1 signature without a jwk (x5c chains are not supported)")
    jwk, alg = header["jwk"], str(header.get("alg", ""))
    signing_input = (signature["protected"] + "." + _b64encode(payload)).encode()
    raw = _b64decode(str(signature.get("signature", "")))
    try:
        if jwk.get("kty") == "EC" and jwk.get("crv") in _curves() and alg.startswith("ES"):
            curve, bits, size = _curves()[jwk["crv"]]
            if alg != "ES" + bits or len(raw) != 2 * size:
                raise _unverified("schema1 signature: algorithm or length does not fit the key", alg=alg)
            ec_key = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve).public_key()
            _check_kid(jwk, ec_key)
            der = encode_dss_signature(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))
            ec_key.verify(der, signing_input, ec.ECDSA(_hashes()[bits]()))
        elif jwk.get("kty") == "RSA" and alg in ("RS256", "RS384", "RS512"):
            rsa_key = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
            _check_kid(jwk, rsa_key)
            rsa_key.verify(raw, signing_input, padding.PKCS1v15(), _hashes()[alg[2:]]())
        else:
            raise _unverified("schema1 signature: unsupported key or algorithm", alg=alg)
    except InvalidSignature as exc:
        raise _unverified("schema1 signature does not verify", kid=jwk.get("kid")) from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise _unverified("schema1 signature: malformed key", reason=str(exc)) from exc


def _check_kid(jwk: dict[str, Any], public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> None:
    if jwk.get("kid") != key_id(public_key):
        raise _unverified("schema1 signature: the jwk's kid is not its key's ID", kid=jwk.get("kid"))


def parse_signed(content: bytes) -> Schema1:
    """Verify every signature of a schema 1 manifest and read what the registry needs from its payload."""
    payload, signatures = payload_of(content)
    for signature in signatures:
        if not isinstance(signature, dict) or not isinstance(signature.get("protected"), str):
            raise _unverified("schema1 signature is malformed")
        _verify_one(signature, payload)
    document = json.loads(payload)
    if not isinstance(document, dict) or document.get("schemaVersion") != 1:
        raise ManifestInvalid("schema1 manifest: schemaVersion must be 1")
    layers = document.get("fsLayers")
    if not isinstance(layers, list) or not all(isinstance(x, dict) and "blobSum" in x for x in layers):
        raise ManifestInvalid("schema1 manifest: fsLayers must list blobSum entries")
    history = document.get("history")
    if not isinstance(history, list) or len(history) != len(layers):
        raise ManifestInvalid("schema1 manifest: history and fsLayers differ in length")
    return Schema1(
        payload,
        str(document.get("name", "")),
        str(document.get("tag", "")),
        tuple(str(x["blobSum"]) for x in layers),
    )


def _jwk(key: PrivateKey) -> tuple[dict[str, str], str]:
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = key.public_key().public_numbers()
        crv = CURVE_NAMES[key.curve.name]
        size = _curves()[crv][2]
        return {
            "crv": crv,
            "kid": key_id(key.public_key()),
            "kty": "EC",
            "x": _b64encode(numbers.x.to_bytes(size, "big")),
            "y": _b64encode(numbers.y.to_bytes(size, "big")),
        }, "ES" + _curves()[crv][1]
    rsa_numbers = key.public_key().public_numbers()
    return {
        "e": _b64encode(rsa_numbers.e.to_bytes((rsa_numbers.e.bit_length() + 7) // 8, "big")),
        "kid": key_id(key.public_key()),
        "kty": "RSA",
        "n": _b64encode(rsa_numbers.n.to_bytes((rsa_numbers.n.bit_length() + 7) // 8, "big")),
    }, "RS256"


def sign(document: dict[str, Any], key: PrivateKey) -> bytes:
    """libtrust's pretty JWS of ``document`` (indented three spaces, as docker wrote them) signed by ``key``."""
    return sign_payload(json.dumps(document, indent=3).encode(), key)


def sign_payload(payload: bytes, key: PrivateKey) -> bytes:
    """libtrust's pretty JWS of a JSON ``payload`` (the signatures spliced in before its closing brace)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    close = len(payload.rstrip()) - 1
    length = len(payload[:close].rstrip())
    protected = _b64encode(
        json.dumps(
            {
                "formatLength": length,
                "formatTail": _b64encode(payload[length:]),
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ).encode()
    )
    jwk, alg = _jwk(key)
    signing_input = (protected + "." + _b64encode(payload)).encode()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        bits, size = _curves()[jwk["crv"]][1], _curves()[jwk["crv"]][2]
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(_hashes()[bits]())))
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:
        raw = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    signatures = [{"header": {"jwk": jwk, "alg": alg}, "signature": _b64encode(raw), "protected": protected}]
    encoded = json.dumps(signatures, indent=3)
    encoded = re.sub(r"\n", "\n   ", encoded)  # nested one level, as json.MarshalIndent(prefix, indent)
    return payload[:length] + b',\n   "signatures": ' + encoded.encode() + payload[length:]
