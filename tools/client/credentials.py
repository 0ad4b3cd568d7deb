"""Credentials from Docker's config file (``~/.docker/config.json``): ``auths`` entries and credential helpers.

Lookup order for a host, as the docker CLI does it: ``credHelpers[host]``, then ``credsStore``, then
``auths[host]`` (``auth`` is base64 ``user:password``; ``identitytoken`` is an OAuth2 refresh token;
``registrytoken`` a bearer token sent as is). Keys of ``auths`` may carry a scheme and a path
(``https://index.docker.io/v1/``); they are matched by host. A helper is the program
``docker-credential-<name>`` speaking the helper protocol: ``get``/``erase`` read the server URL on stdin,
``store`` reads ``{"ServerURL", "Username", "Secret"}``; a Username of ``<token>`` means the Secret is an identity
token.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_client.errors import ClientError

__all__ = ["Credential", "CredentialHelperFailed", "DockerConfig", "normalize_host"]

DOCKER_HUB = "https://index.docker.io/v1/"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
TOKEN_USERNAME = "<token>"

Runner = Callable[[Sequence[str], bytes], tuple[int, bytes, bytes]]


class CredentialHelperFailed(ClientError):
    """A ``docker-credential-*`` helper failed (other than "credentials not found")."""


@dataclass(frozen=True)
class Credential:
    """What a registry may be authenticated with."""

    username: str = ""
    password: str = ""
    identity_token: str = ""
    registry_token: str = ""

    @property
    def empty(self) -> bool:
        return not (self.username or self.password or self.identity_token or self.registry_token)


def normalize_host(server: str) -> str:
    """``https://host:5000/v1/`` -> ``host:5000``; every Docker Hub alias -> ``docker.io``."""
    host = server.strip()
    for scheme in ("https://", "http://"):
        if host.startswith(scheme):
            host = host[len(scheme) :]
    host = host.split("/", 1)[0].lower()
    return "docker.io" if host in _HUB_ALIASES else host


def _run(argv: Sequence[str], stdin: bytes) -> tuple[int, bytes, bytes]:
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, timeout=60, check=False)
    except FileNotFoundError as exc:
        raise CredentialHelperFailed(f"credential helper {argv[0]} is not installed") from exc
    return done.returncode, done.stdout, done.stderr


class DockerConfig:
    """One Docker config file; it need not exist until something is stored."""

    def __init__(self, path: Path | str | None = None, runner: Runner = _run) -> None:
        self.path = Path(path) if path is not None else self.default_path()
        self.runner = runner

    @staticmethod
    def default_path() -> Path:
        directory = os.environ.get("DOCKER_CONFIG")
        return Path(directory) / "config.json" if directory else Path.home() / ".docker" / "config.json"

    def load(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ClientError(f"cannot read Docker config {self.path}: {exc}") from exc
        return document if isinstance(document, dict) else {}

    def helper_for(self, host: str, document: dict[str, Any] | None = None) -> str | None:
        document = self.load() if document is None else document
        host = normalize_host(host)
        for key, helper in (document.get("credHelpers") or {}).items():
            if normalize_host(key) == host and helper:
                return str(helper)
        store = document.get("credsStore")
        return str(store) if store else None

    def get(self, host: str) -> Credential | None:
        """The credential stored for ``host``, or None."""
        document = self.load()
        helper = self.helper_for(host, document)
        if helper is not None:
            found = self._helper_get(helper, host)
            if found is not None:
                return found
        for key, entry in (document.get("auths") or {}).items():
            if normalize_host(key) == normalize_host(host) and isinstance(entry, dict):
                credential = _from_auths_entry(entry)
                if not credential.empty:
                    return credential
        return None

    def store(self, host: str, credential: Credential) -> None:
        """Save ``credential`` for ``host``: in its helper if one is configured, else base64 in ``auths``."""
        document = self.load()
        helper = self.helper_for(host, document)
        key = _server_url(host)
        auths = document.setdefault("auths", {})
        if helper is not None:
            username = TOKEN_USERNAME if credential.identity_token else credential.username
            secret = credential.identity_token or credential.password
            payload = json.dumps({"ServerURL": key, "Username": username, "Secret": secret}).encode()
            self._helper("store", helper, payload)
            auths[key] = {}
        else:
            entry: dict[str, str] = {}
            if credential.username or credential.password:
                raw = f"{credential.username}:{credential.password}".encode()
                entry["auth"] = base64.b64encode(raw).decode()
            if credential.identity_token:
                entry["identitytoken"] = credential.identity_token
            for existing in [k for k in auths if normalize_host(k) == normalize_host(host)]:
                del auths[existing]
            auths[key] = entry
        self._write(document)

    def erase(self, host: str) -> bool:
        """Forget ``host``'s credential; returns whether there was one."""
        document = self.load()
        helper = self.helper_for(host, document)
        found = False
        if helper is not None:
            code, _, _ = self.runner([f"docker-credential-{helper}", "erase"], _server_url(host).encode())
            found = code == 0
        auths = document.get("auths") or {}
        for key in [k for k in auths if normalize_host(k) == normalize_host(host)]:
            del auths[key]
            found = True
        if found:
            self._write(document)
        return found

    def _helper_get(self, helper: str, host: str) -> Credential | None:
        code, out, err = self.runner([f"docker-credential-{helper}", "get"], _server_url(host).encode())
        if code != 0:
            if b"not found" in (out + err).lower():
                return None
            message = (err or out).decode(errors="replace").strip()
            raise CredentialHelperFailed(f"docker-credential-{helper} get failed: {message}")
        try:
            reply = json.loads(out)
            username, secret = str(reply.get("Username") or ""), str(reply.get("Secret") or "")
        except (ValueError, AttributeError) as exc:
            raise CredentialHelperFailed(f"docker-credential-{helper} get: unreadable answer") from exc
        if username == TOKEN_USERNAME:
            return Credential(identity_token=secret)
        return Credential(username=username, password=secret)

    def _helper(self, action: str, helper: str, payload: bytes) -> None:
        code, out, err = self.runner([f"docker-credential-{helper}", action], payload)
        if code != 0:
            message = (err or out).decode(errors="replace").strip()
            raise CredentialHelperFailed(f"docker-credential-{helper} {action} failed: {message}")

    def _write(self, document: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".config.json.")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(document, out, indent="\t")
                out.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _server_url(host: str) -> str:
    """The key docker uses for ``host`` (Docker Hub keeps its historical URL)."""
    normalized = normalize_host(host)
    return DOCKER_HUB if normalized == "docker.io" else normalized


def _from_auths_entry(entry: dict[str, Any]) -> Credential:
    username, password = str(entry.get("username") or ""), str(entry.get("password") or "")
    encoded = entry.get("auth")
    if encoded:
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            username, _, password = base64.b64decode(str(encoded)).decode().partition(":")
    return Credential(
        username=username,
        password=password,
        identity_token=str(entry.get("identitytoken") or ""),
        registry_token=str(entry.get("registrytoken") or ""),
    )
