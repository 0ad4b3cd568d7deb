"""TLS for ``registry serve``: ``http.tls`` (certificate, key, clientcas, minimumtls) as each server takes it.

* ``minimumtls``: tls1.2 (distribution's default) or tls1.3; tls1.0/tls1.1 are accepted where the
  TLS library still allows them (uvicorn; granian starts at tls1.2);
* ``clientcas``: mutual TLS. Client certificates are required and verified against these CAs
  (distribution's default when they are set). ``clientauth: verify-client-cert-if-given`` or
  ``request-client-cert`` make a certificate optional under uvicorn (still verified when sent);
  granian always requires one.
* ``ciphersuites``: the TLS 1.2 suites allowed (distribution's Go names, OpenSSL's under uvicorn; TLS 1.3
  suites are always on, as in Go). granian (rustls) has no such setting: it refuses the key.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from registry_impl.config import ConfigError, TLSConfig
from registry_impl.config.sections import CIPHER_SUITES

__all__ = ["client_verification", "granian_options", "server_context", "uvicorn_options"]

log = logging.getLogger("registry")

VERSIONS = {
    "tls1.0": ssl.TLSVersion.TLSv1,
    "tls1.1": ssl.TLSVersion.TLSv1_1,
    "tls1.2": ssl.TLSVersion.TLSv1_2,
    "tls1.3": ssl.TLSVersion.TLSv1_3,
}
OPTIONAL_CLIENT_CERT = ("request-client-cert", "verify-client-cert-if-given")


def client_verification(tls: TLSConfig) -> ssl.VerifyMode:
    """CERT_NONE without ``clientcas``; CERT_OPTIONAL for the "if given" modes; else CERT_REQUIRED."""
    if not tls.clientcas:
        if tls.clientauth:
            log.warning(
                "http.tls.clientauth %s ignored: no http.tls.clientcas to verify against", tls.clientauth
            )
        return ssl.CERT_NONE
    return ssl.CERT_OPTIONAL if tls.clientauth in OPTIONAL_CLIENT_CERT else ssl.CERT_REQUIRED


def server_context(tls: TLSConfig) -> ssl.SSLContext:
    """A server-side SSLContext for ``http.tls``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = VERSIONS[tls.minimumtls]
    openssl_names = [CIPHER_SUITES[suite] for suite in tls.ciphersuites if CIPHER_SUITES[suite]]
    if openssl_names:
        context.set_ciphers(":".join(openssl_names))
    context.load_cert_chain(tls.certificate, tls.key)
    for path in tls.clientcas:
        context.load_verify_locations(path)
    context.verify_mode = client_verification(tls)
    return context


def _uvicorn_factory(tls: TLSConfig, _config: Any, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    return server_context(tls)


def uvicorn_options(tls: TLSConfig) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` (the context is built in each worker; the factory pickles)."""
    if not tls.certificate:
        return {}
    return {
        "ssl_certfile": tls.certificate,
        "ssl_keyfile": tls.key,
        "ssl_context_factory": functools.partial(_uvicorn_factory, tls),
    }


def _ca_bundle(paths: tuple[str, ...]) -> Path:
    if len(paths) == 1:
        return Path(paths[0])
    with tempfile.NamedTemporaryFile("wb", prefix="registry-clientcas-", suffix=".pem", delete=False) as out:
        for path in paths:
            out.write(Path(path).read_bytes().rstrip(b"\n") + b"\n")
    atexit.register(_remove, out.name)
    return Path(out.name)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def granian_options(tls: TLSConfig) -> dict[str, Any]:
    """Keyword arguments for granian's ``Server``."""
    if not tls.certificate:
        return {}
    from granian.constants import SSLProtocols

    if tls.ciphersuites:
        raise ConfigError(
            "http.tls.ciphersuites",
            "granian (rustls) cannot restrict cipher suites; run with --server uvicorn",
        )
    minimum = SSLProtocols.tls13 if tls.minimumtls == "tls1.3" else SSLProtocols.tls12
    if tls.minimumtls in ("tls1.0", "tls1.1"):
        log.warning("http.tls.minimumtls %s: granian serves tls1.2 and later", tls.minimumtls)
    options: dict[str, Any] = {
        "ssl_cert": Path(tls.certificate),
        "ssl_key": Path(tls.key),
        "ssl_protocol_min": minimum,
    }
    if tls.clientcas:
        if tls.clientauth in OPTIONAL_CLIENT_CERT:
            log.warning("http.tls.clientauth %s: granian requires a client certificate", tls.clientauth)
        options.update(ssl_ca=_ca_bundle(tls.clientcas), ssl_client_verify=True)
    return options
