"""http.tls → the SSL settings each server gets: minimum version, client certificate verification."""

from __future__ import annotations

import pickle
import ssl
from pathlib import Path

import pytest
from testkit.tls import CertificateAuthority

from registry_impl.config import TLSConfig
from registry_impl.tls import client_verification, granian_options, server_context, uvicorn_options


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"))


def tls(ca: CertificateAuthority, **kwargs: object) -> TLSConfig:
    server = ca.issue("server")
    return TLSConfig(certificate=str(server.cert_path), key=str(server.key_path), **kwargs)  # type: ignore[arg-type]


def test_server_context_defaults_to_tls12_and_no_client_certificates(ca: CertificateAuthority) -> None:
    context = server_context(tls(ca))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_NONE


def test_minimum_tls13(ca: CertificateAuthority) -> None:
    assert server_context(tls(ca, minimumtls="tls1.3")).minimum_version == ssl.TLSVersion.TLSv1_3


def test_clientcas_require_and_verify(ca: CertificateAuthority) -> None:
    config = tls(ca, clientcas=(str(ca.cert_path),))
    assert server_context(config).verify_mode == ssl.CERT_REQUIRED
    optional = tls(ca, clientcas=(str(ca.cert_path),), clientauth="verify-client-cert-if-given")
    assert client_verification(optional) == ssl.CERT_OPTIONAL
    assert client_verification(tls(ca, clientauth="require-and-verify-client-cert")) == ssl.CERT_NONE


def test_uvicorn_options_build_the_context_in_each_worker(ca: CertificateAuthority) -> None:
    assert uvicorn_options(TLSConfig()) == {}
    options = uvicorn_options(tls(ca, minimumtls="tls1.3", clientcas=(str(ca.cert_path),)))
    factory = pickle.loads(pickle.dumps(options["ssl_context_factory"]))  # workers are spawned
    context = factory(None, lambda: None)
    assert (context.minimum_version, context.verify_mode) == (ssl.TLSVersion.TLSv1_3, ssl.CERT_REQUIRED)


def test_granian_options(ca: CertificateAuthority, tmp_path: Path) -> None:
    from granian.constants import SSLProtocols

    assert granian_options(TLSConfig()) == {}
    plain = granian_options(tls(ca))
    assert plain["ssl_protocol_min"] == SSLProtocols.tls12
    assert "ssl_ca" not in plain and not plain.get("ssl_client_verify")
    other = CertificateAuthority.create(tmp_path / "other")
    mutual = granian_options(
        tls(ca, minimumtls="tls1.3", clientcas=(str(ca.cert_path), str(other.cert_path)))
    )
    assert mutual["ssl_protocol_min"] == SSLProtocols.tls13 and mutual["ssl_client_verify"] is True
    bundle = mutual["ssl_ca"].read_bytes()
    assert ca.cert_path.read_bytes().strip() in bundle and other.cert_path.read_bytes().strip() in bundle


def test_ciphersuites_restrict_tls12_suites_under_uvicorn(ca: CertificateAuthority) -> None:
    config = tls(ca, ciphersuites=("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"))
    names = {c["name"] for c in server_context(config).get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert names == {"ECDHE-RSA-AES256-GCM-SHA384"}


def test_granian_refuses_ciphersuites(ca: CertificateAuthority) -> None:
    from registry_impl.config import ConfigError

    with pytest.raises(ConfigError, match=r"^http\.tls\.ciphersuites: "):
        granian_options(tls(ca, ciphersuites=("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",)))


def test_an_unknown_cipher_suite_is_a_configuration_error() -> None:
    from registry_impl.config import ConfigError, parse_config

    text = "version: 0.1\nstorage: inmemory\nhttp: {tls: {ciphersuites: [TLS_MADE_UP]}}\n"
    with pytest.raises(ConfigError, match=r"^http\.tls\.ciphersuites: unknown cipher suite 'TLS_MADE_UP'"):
        parse_config(text, {})
