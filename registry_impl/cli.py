"""`registry`: the server's command line (``registry serve|garbage-collect|usage [CONFIG]``, ``--version``).

Exit statuses follow distribution's: 0 done, 1 a configuration or startup error (one line on stderr naming
the key), 2 a bad command line (argparse).
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from registry_impl import startup

KEYED_LINE = re.compile(r"^[\w.-]+: ")  # ``http.tls.letsencrypt: refused: ...``


def main(argv: list[str] | None = None) -> int:
    startup.collector_paused()  # while the configuration's modules load; ``serve`` resumes it, so do the rest
    try:
        return _main(argv)
    finally:
        startup.resume_collector()


def _main(argv: list[str] | None) -> int:
    from registry_impl.config import ConfigError

    parser = argparse.ArgumentParser(
        prog="registry", description="A container registry (Docker V2 / OCI 1.1)."
    )
    parser.add_argument("--version", "-v", action=_Version, nargs=0, help="show the version and exit")
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

    gc = sub.add_parser(
        "garbage-collect", help="delete unreferenced blobs (registry stopped or read-only, or --online)"
    )
    garbagecollect.add_arguments(gc)
    sub.add_parser("version", help="print the version and the registry API version")
    usage = sub.add_parser("usage", help="stored bytes per repository: unique and shared (read-only)")
    usage.add_argument("config", nargs="?", help="distribution config.yml (default: embedded config)")
    usage.add_argument("--json", action="store_true", help="one JSON document, sizes in bytes")
    usage.add_argument("--save", action="store_true", help="also store it in the storage, for the web UI")
    args = parser.parse_args(argv)
    if args.command != "serve":
        startup.resume_collector()
    if args.command == "version":
        print(version_line())
        return 0
    if args.command == "usage":
        return _usage(args.config, as_json=args.json, save=args.save)
    if args.command == "garbage-collect":
        return garbagecollect.run(args)
    from registry_impl.server import ListenError
    from registry_impl.server import serve as run

    try:
        run(args.config, server=args.server, workers=args.workers)
    except (ConfigError, OSError) as exc:
        return _config_failure(exc, args.config)
    except ListenError as exc:
        print(f"registry: {exc}", file=sys.stderr)
        return 1
    return 0


class _Version(argparse.Action):
    """``--version``: the line is made only when asked for (it reads the installed package's metadata)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        print(version_line())
        parser.exit()


def version_line() -> str:
    """``registry <package> <version> (API registry/2.0)``, the shape of distribution's ``--version``."""
    from importlib.metadata import PackageNotFoundError, version

    from registry_spec.params import API_VERSION

    try:
        package = version("pydistribution")
    except PackageNotFoundError:  # run from a checkout that was never installed
        package = "unknown"
    return f"registry pydistribution {package} (API {API_VERSION.example}, OCI distribution-spec 1.1)"


def _config_failure(exc: Exception, path: str | None) -> int:
    """Exit status 1 with the error on stderr: one line per finding when each names its key (refused keys),
    else the message on one line; a config file that cannot be read is a configuration error too."""
    from registry_impl.config import ConfigError

    if isinstance(exc, OSError) and not isinstance(exc, ConfigError):
        if path is None or exc.filename != path:
            raise exc
        message = f"{path}: {exc.strerror}"
    else:
        lines = str(exc).splitlines()
        findings = len(lines) > 1 and all(KEYED_LINE.match(line) for line in lines)
        message = "\n".join(lines) if findings else " ".join(str(exc).split())
    for line in message.splitlines():
        print(f"registry: configuration error: {line}", file=sys.stderr)
    return 1


def _usage(config_path: str | None, *, as_json: bool, save: bool = False) -> int:
    from registry_impl.config import ConfigError, load_config
    from registry_impl.storage.cache.base import NoCache
    from registry_impl.storage.driver import factory
    from registry_impl.storage.driver.base import StorageDriverError
    from registry_impl.storage.registry import Registry
    from registry_impl.storage.usage import measure, save_report

    try:
        config = load_config(config_path)
        storage = config.storage
        try:
            driver = factory.create(storage.driver_name, dict(storage.driver_params))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"storage.{storage.driver_name}", str(exc)) from exc
    except (ConfigError, OSError) as exc:
        return _config_failure(exc, config_path)
    try:
        report = measure(Registry(driver, cache=NoCache()))
        if save:
            save_report(driver, report)
    except (StorageDriverError, OSError) as exc:
        print(f"registry: usage: cannot read the storage: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        for line in report.lines():
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
