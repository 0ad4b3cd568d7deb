"""``registry-token-server``: run the token server (generating its signing key and certificate on first run)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from registry_toolkit.token_server.acl import AclError
from registry_toolkit.token_server.app import Settings, TokenService, create_app
from registry_toolkit.token_server.keys import SigningKeyError, load_or_generate
from registry_toolkit.token_server.tokens import Issuer
from starlette.types import ASGIApp

__all__ = ["app_from_environment", "main"]

log = logging.getLogger("registry.token_server")
SETTINGS_ENV = "REGISTRY_TOKEN_SERVER_SETTINGS"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="registry-token-server",
        description="A token server for registries configured with auth.token (the Docker token protocol).",
    )
    parser.add_argument(
        "--addr", default="127.0.0.1:5001", help="HOST:PORT to listen on (default %(default)s)"
    )
    parser.add_argument("--issuer", default="registry-token-server", help="the iss claim; auth.token.issuer")
    parser.add_argument(
        "--service", default="", help="the only service (aud) to issue for; default: as requested"
    )
    parser.add_argument(
        "--htpasswd", type=Path, help="users (bcrypt htpasswd file); without it only anonymous"
    )
    parser.add_argument(
        "--acl", type=Path, required=True, help="the ACL (YAML list of account/repository/actions)"
    )
    parser.add_argument("--key", type=Path, default=Path("token-signing.key"), help="signing key (PEM)")
    parser.add_argument(
        "--certificate",
        type=Path,
        default=Path("token-signing.crt"),
        help="its certificate (PEM; what registries trust as auth.token.rootcertbundle)",
    )
    parser.add_argument("--expiration", type=int, default=300, help="token lifetime in seconds")
    parser.add_argument("--tls-certificate", type=Path, help="serve HTTPS with this certificate chain")
    parser.add_argument("--tls-key", type=Path, help="and this key")
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    if bool(args.tls_certificate) != bool(args.tls_key):
        parser.error("--tls-certificate and --tls-key go together")
    return args


def build(settings: Settings) -> ASGIApp:
    signing, _ = load_or_generate(settings.key, settings.certificate, settings.issuer)
    app: ASGIApp = create_app(TokenService(settings, Issuer(signing, settings.issuer, settings.expiration)))
    return app


def _encode(settings: Settings) -> str:
    return json.dumps(
        {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(settings).items()}
    )


def _decode(text: str) -> Settings:
    raw: dict[str, Any] = json.loads(text)
    for name in ("acl", "key", "certificate", "htpasswd"):
        if raw.get(name) is not None:
            raw[name] = Path(raw[name])
    return Settings(**raw)


def app_from_environment() -> ASGIApp:
    """ASGI factory for server workers: the settings come from ``REGISTRY_TOKEN_SERVER_SETTINGS``."""
    return build(_decode(os.environ[SETTINGS_ENV]))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings(
        issuer=args.issuer,
        acl=args.acl.resolve(),
        key=args.key.resolve(),
        certificate=args.certificate.resolve(),
        service=args.service,
        htpasswd=args.htpasswd.resolve() if args.htpasswd else None,
        expiration=args.expiration,
    )
    try:
        signing, generated = load_or_generate(settings.key, settings.certificate, settings.issuer)
        build(settings)  # the ACL and users load now, so a broken file stops startup here
    except (SigningKeyError, AclError, OSError) as exc:
        print(f"registry-token-server: {exc}", file=sys.stderr)
        return 2
    if generated:
        log.warning("generated a signing key %s and certificate %s", settings.key, settings.certificate)
    log.warning(
        "token server for issuer %r on %s (%s, kid %s); registries trust %s",
        settings.issuer,
        args.addr,
        signing.algorithm,
        signing.key_id,
        settings.certificate,
    )
    os.environ[SETTINGS_ENV] = _encode(settings)
    host, _, port = args.addr.rpartition(":")
    _run(args, host or "0.0.0.0", int(port))
    return 0


def _run(args: argparse.Namespace, host: str, port: int) -> None:
    target = "registry_toolkit.token_server.cli:app_from_environment"
    if args.server == "granian":
        from granian.constants import Interfaces, SSLProtocols
        from granian.server import Server

        tls: dict[str, Any] = {}
        if args.tls_certificate:
            tls = {
                "ssl_cert": args.tls_certificate,
                "ssl_key": args.tls_key,
                "ssl_protocol_min": SSLProtocols.tls12,
            }
        Server(target, address=host, port=port, interface=Interfaces.ASGI, factory=True, **tls).serve()
        return
    import uvicorn

    uvicorn.run(
        target,
        factory=True,
        host=host,
        port=port,
        log_level=args.log_level,
        lifespan="off",
        ssl_certfile=str(args.tls_certificate) if args.tls_certificate else None,
        ssl_keyfile=str(args.tls_key) if args.tls_key else None,
    )


if __name__ == "__main__":
    sys.exit(main())
