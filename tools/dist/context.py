"""Per-invocation state of ``dist``: options, credentials, TLS material, and one client per registry and role.

Credentials, first found wins: ``--src-creds``/``--dest-creds`` (or ``--creds``) ``USER[:PASSWORD]``; the auth
file named by ``--authfile`` or ``$REGISTRY_AUTH_FILE`` (containers' ``auth.json``, the Docker config format);
the Docker config (``--config``, ``$DOCKER_CONFIG``, ``~/.docker``), with its credential helpers.

TLS, as docker and containers/image do it: ``--cacert FILE`` adds a trusted CA; ``--cert-dir DIR`` (or, when it
is absent, ``/etc/docker/certs.d/HOST[:PORT]/``, base directory overridable with ``$DIST_CERTS_D``) holds ``*.crt``
CAs and a ``*.cert``/``*.key`` client pair for mutual TLS. A host with TLS material is reached over HTTPS even on
loopback; ``--insecure`` (no verification, plain HTTP fallback) stays the explicit last resort.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
from pathlib import Path
from typing import Any

from registry_client import Credential, DockerConfig, RegistryClient

from .archive import ArchiveStore
from .layout import LayoutStore
from .progress import Progress, make_progress
from .stores import Location, RegistryStore, Store, StoreError

__all__ = ["CERTS_D", "CERTS_D_ENV", "Context", "parse_creds", "tls_context"]

CERTS_D = Path("/etc/docker/certs.d")
CERTS_D_ENV = "DIST_CERTS_D"


def parse_creds(text: str) -> Credential:
    """``USER[:PASSWORD]`` (the password may contain colons)."""
    username, _, password = text.partition(":")
    if not username:
        raise StoreError("credentials are USER[:PASSWORD]")
    return Credential(username=username, password=password)


def _material(directory: Path) -> tuple[list[Path], tuple[Path, Path] | None]:
    cas = sorted(directory.glob("*.crt"))
    pair = None
    for cert in sorted(directory.glob("*.cert")):
        key = cert.with_suffix(".key")
        if not key.is_file():
            raise StoreError(f"{cert} has no matching {key.name}")
        pair = pair or (cert, key)
    return cas, pair


def tls_context(host: str, cacert: str | None, cert_dir: str | None) -> ssl.SSLContext | None:
    """The SSL context for ``host`` (system CAs plus what is configured), or None when nothing is configured."""
    directory: Path | None = None
    if cert_dir is not None:
        directory = Path(cert_dir)
        if not directory.is_dir():
            raise StoreError(f"--cert-dir {cert_dir}: not a directory")
    else:
        base = Path(os.environ.get(CERTS_D_ENV) or CERTS_D)
        directory = base / host if (base / host).is_dir() else None
    cas, pair = _material(directory) if directory is not None else ([], None)
    if cacert:
        cas.insert(0, Path(cacert))
    if not cas and pair is None:
        return None
    context = ssl.create_default_context()
    try:
        for ca in cas:
            context.load_verify_locations(cafile=str(ca))
        if pair is not None:
            context.load_cert_chain(str(pair[0]), str(pair[1]))
    except (OSError, ssl.SSLError) as exc:
        raise StoreError(f"TLS material for {host}: {exc}") from exc
    return context


class Context:
    """Options, the credential store, one client per (host, role) shared by threads, output helpers."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        authfile = getattr(args, "authfile", None) or os.environ.get("REGISTRY_AUTH_FILE")
        config_dir = getattr(args, "config", None)
        if authfile:
            self.docker_config = DockerConfig(Path(authfile))
        else:
            self.docker_config = DockerConfig(Path(config_dir) / "config.json" if config_dir else None)
        self.clients: dict[tuple[str, str], RegistryClient] = {}

    def credential(self, role: str) -> Credential | None:
        text = getattr(self.args, f"{role}_creds", None) if role else getattr(self.args, "creds", None)
        return parse_creds(text) if text else None

    def client(self, host: str, role: str = "") -> RegistryClient:
        """The client for ``host``; ``role`` ("src" or "dest") picks ``--src-creds``/``--dest-creds``."""
        explicit = self.credential(role)
        key = (host, role if explicit is not None else "")
        if key not in self.clients:
            jobs = int(getattr(self.args, "jobs", 4) or 4)
            self.clients[key] = RegistryClient.for_host(
                host,
                insecure=bool(getattr(self.args, "insecure", False)),
                credentials=explicit if explicit is not None else self.docker_config,
                tls=tls_context(
                    host, getattr(self.args, "cacert", None), getattr(self.args, "cert_dir", None)
                ),
                max_connections=max(8, jobs * 2),
            )
        return self.clients[key]

    def store(self, location: Location, role: str = "") -> Store:
        if location.kind == "oci":
            assert location.path is not None
            return LayoutStore(location.path, location.tag)
        if location.kind == "docker-archive":
            assert location.path is not None
            return ArchiveStore(location.path, location.tag)
        assert location.reference is not None
        return RegistryStore(self.client(location.reference.host, role), location.reference)

    def progress(self) -> Progress:
        return make_progress(quiet=bool(self.args.quiet), events=bool(self.args.json) and not self.args.quiet)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def emit(self, value: Any, text: str | None = None) -> None:
        """Print ``value`` as JSON with --json, else ``text`` (or the value itself)."""
        if self.args.json:
            print(json.dumps(value, indent=2))
        elif text is not None:
            print(text)
        elif isinstance(value, list):
            print("\n".join(str(v) for v in value))
        else:
            print(value)
        sys.stdout.flush()
