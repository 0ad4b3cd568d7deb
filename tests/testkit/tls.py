"""A throwaway certificate authority for tests: server and client certificates, files, and client contexts.

    ca = CertificateAuthority.create(tmp_path / "ca")
    server = ca.issue("registry", hosts=("127.0.0.1", "localhost"))   # .cert_path, .key_path
    client = ca.issue("alice", client=True)
    ssl_context = ca.client_context(client)                        # verifies servers, presents alice

Everything is EC P-256 and lives one day; nothing touches the system trust store.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, written as ``NAME.crt``/``NAME.key`` (PEM)."""

    name: str
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: Path
    key_path: Path


@dataclass(frozen=True)
class CertificateAuthority:
    directory: Path
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.crt"

    @classmethod
    def create(cls, directory: Path, common_name: str = "registry test CA") -> CertificateAuthority:
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        ca = cls(directory, certificate, key)
        ca.cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return ca

    def issue(
        self,
        name: str,
        *,
        hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
        client: bool = False,
        expired: bool = False,
    ) -> Issued:
        """A leaf certificate for a server (``hosts`` as SANs) or, with ``client``, for a client."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        start, end = (
            (now - 2 * VALIDITY, now - VALIDITY)
            if expired
            else (now - dt.timedelta(minutes=5), now + VALIDITY)
        )
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if not client:
            sans: list[x509.GeneralName] = []
            for host in hosts:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    sans.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        certificate = builder.sign(self.key, hashes.SHA256())
        cert_path, key_path = self.directory / f"{name}.crt", self.directory / f"{name}.key"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(_pem_key(key))
        key_path.chmod(0o600)
        return Issued(name, certificate, key, cert_path, key_path)

    def client_context(
        self, client: Issued | None = None, *, maximum: ssl.TLSVersion | None = None
    ) -> ssl.SSLContext:
        """An SSLContext trusting only this CA, presenting ``client``'s certificate when given."""
        context = ssl.create_default_context(cafile=str(self.cert_path))
        if client is not None:
            context.load_cert_chain(client.cert_path, client.key_path)
        if maximum is not None:
            context.maximum_version = maximum
        return context

    def cert_dir(self, directory: Path, client: Issued | None = None) -> Path:
        """A containers/image ``--cert-dir``: ``ca.crt``, plus ``client.cert``/``client.key`` for mutual TLS."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "ca.crt").write_bytes(self.cert_path.read_bytes())
        if client is not None:
            (directory / "client.cert").write_bytes(client.cert_path.read_bytes())
            (directory / "client.key").write_bytes(client.key_path.read_bytes())
        return directory
