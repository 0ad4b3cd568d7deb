"""`registry`: the server's command line (``registry serve [CONFIG]``)."""

from __future__ import annotations

import argparse
import sys

from registry_impl.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="registry", description="A container registry (Docker V2 / OCI 1.1)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the registry")
    serve.add_argument(
        "config", nargs="?", help="distribution config.yml (default: embedded development config)"
    )
    serve.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default 1; always 1 for in-memory storage)",
    )
    from registry_impl import garbagecollect

    gc = sub.add_parser("garbage-collect", help="delete unreferenced blobs (registry stopped or read-only)")
    garbagecollect.add_arguments(gc)
    args = parser.parse_args(argv)
    if args.command == "garbage-collect":
        return garbagecollect.run(args)
    from registry_impl.server import ListenError
    from registry_impl.server import serve as run

    try:
        run(args.config, server=args.server, workers=args.workers)
    except ConfigError as exc:
        print(f"registry: configuration error: {exc}", file=sys.stderr)
        return 2
    except ListenError as exc:
        print(f"registry: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
