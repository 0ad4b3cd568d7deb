"""Schema 1 signed manifests: libtrust's pretty JWS signed and verified (EC and RSA keys), payload and digest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from registry_impl import schema1
from registry_impl.config import ConfigError
from registry_impl.errors import ManifestUnverified

DOCUMENT = {
    "schemaVersion": 1,
    "name": "old/app",
    "tag": "v1",
    "architecture": "amd64",
    "fsLayers": [{"blobSum": "sha256:" + "a" * 64}],
    "history": [{"v1Compatibility": '{"id":"' + "b" * 64 + '"}'}],
}


@pytest.fixture(
    params=["P-256", "P-384", "RSA"],
)
def key(request: pytest.FixtureRequest) -> schema1.PrivateKey:
    if request.param == "RSA":
        return rsa.generate_private_key(65537, 2048)
    return ec.generate_private_key(ec.SECP256R1() if request.param == "P-256" else ec.SECP384R1())


def test_signed_manifest_verifies_and_its_digest_is_the_payloads(key: schema1.PrivateKey) -> None:
    signed = schema1.sign(DOCUMENT, key)
    payload = json.dumps(DOCUMENT, indent=3).encode()
    parsed = schema1.parse_signed(signed)
    assert parsed.payload == payload
    assert parsed.digest == "sha256:" + hashlib.sha256(payload).hexdigest()
    assert (parsed.name, parsed.tag, parsed.layers) == ("old/app", "v1", ("sha256:" + "a" * 64,))
    assert json.loads(signed)["signatures"][0]["header"]["jwk"]["kid"] == schema1.key_id(key.public_key())


def test_a_changed_byte_breaks_the_signature(key: schema1.PrivateKey) -> None:
    signed = schema1.sign(DOCUMENT, key)
    with pytest.raises(ManifestUnverified):
        schema1.parse_signed(signed.replace(b'"tag": "v1"', b'"tag": "v2"'))


def test_unsigned_and_foreign_key_ids_are_unverified() -> None:
    with pytest.raises(ManifestUnverified):
        schema1.parse_signed(json.dumps(DOCUMENT, indent=3).encode())
    key = ec.generate_private_key(ec.SECP256R1())
    signed = json.loads(schema1.sign(DOCUMENT, key))
    signed["signatures"][0]["header"]["jwk"]["kid"] = schema1.key_id(
        ec.generate_private_key(ec.SECP256R1()).public_key()
    )
    with pytest.raises(ManifestUnverified):
        schema1.parse_signed(json.dumps(signed, indent=3).encode())


def test_payload_signed_again_keeps_its_digest() -> None:
    """What is served for a manifest an older registry stored without signatures."""
    payload = json.dumps(DOCUMENT, indent=3).encode()
    served = schema1.sign_payload(payload, ec.generate_private_key(ec.SECP256R1()))
    assert schema1.parse_signed(served).payload == payload


def test_signing_key_files(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    begin, rest = pem.split(b"\n", 1)
    (tmp_path / "libtrust.pem").write_bytes(
        begin + b"\nkeyID: " + schema1.key_id(key.public_key()).encode() + b"\n\n" + rest
    )
    policy = schema1.policy_from({"enabled": True, "signingkeyfile": str(tmp_path / "libtrust.pem")})
    assert policy.enabled and schema1.key_id(policy.key.public_key()) == schema1.key_id(key.public_key())
    assert not schema1.policy_from({}).enabled
    with pytest.raises(ConfigError, match="signingkeyfile"):
        schema1.policy_from({"signingkeyfile": str(tmp_path / "missing.pem")})
