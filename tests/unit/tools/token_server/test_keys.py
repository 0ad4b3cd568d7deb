"""The signing key: generated once (key 0600 beside a self-signed certificate), loaded afterwards, checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from registry_toolkit.token_server.keys import SigningKeyError, generate, load_or_generate

from registry_impl.auth.keys import libtrust_key_id


def test_generated_on_first_run_and_loaded_afterwards(tmp_path: Path) -> None:
    key, cert = tmp_path / "k" / "signing.key", tmp_path / "k" / "signing.crt"
    first, generated = load_or_generate(key, cert, "my-issuer")
    assert generated and first.algorithm == "ES256"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert first.certificate.subject.rfc4514_string() == "CN=my-issuer"
    again, generated_again = load_or_generate(key, cert, "my-issuer")
    assert not generated_again
    assert again.key_id == first.key_id == libtrust_key_id(first.certificate.public_key())  # type: ignore[arg-type]


def test_one_file_without_the_other(tmp_path: Path) -> None:
    key, cert = tmp_path / "signing.key", tmp_path / "signing.crt"
    load_or_generate(key, cert, "x")
    cert.unlink()
    with pytest.raises(SigningKeyError, match="cannot load"):
        load_or_generate(key, cert, "x")


def test_a_certificate_for_another_key(tmp_path: Path) -> None:
    key, cert = tmp_path / "signing.key", tmp_path / "signing.crt"
    load_or_generate(key, cert, "x")
    cert.write_bytes(generate("x").certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(SigningKeyError, match="does not certify"):
        load_or_generate(key, cert, "x")


@pytest.mark.parametrize(
    ("private", "algorithm"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
        (ed25519.Ed25519PrivateKey.generate(), "EdDSA"),
    ],
)
def test_given_keys_of_other_types(tmp_path: Path, private: object, algorithm: str) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "given")])
    now = dt.datetime.now(dt.UTC)
    signing_hash = None if algorithm == "EdDSA" else hashes.SHA256()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())  # type: ignore[attr-defined]
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private, signing_hash)  # type: ignore[arg-type]
    )
    key_path, cert_path = tmp_path / "given.key", tmp_path / "given.crt"
    key_path.write_bytes(
        private.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    loaded, generated = load_or_generate(key_path, cert_path, "given")
    assert not generated and loaded.algorithm == algorithm
