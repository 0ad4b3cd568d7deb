"""``dist``: copy images between registries, OCI layouts and docker archives; inspect and manage registries.

Exit status: 0 on success, 1 on an error (printed on one line: the registry's code and message, or what went
wrong locally), 2 on a usage error, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from registry_client.descriptors import host_platform
from registry_client.errors import ClientError
from registry_spec.protocol.errors import ProtocolError

from .artifacts import cmd_attach, cmd_referrers, cmd_tag
from .commands import COMMANDS
from .context import Context
from .mirror import cmd_sync
from .stores import StoreError

__all__ = ["build_parser", "main"]

LOCATIONS = """locations:
  [docker://]HOST[:PORT]/REPO[:TAG|@DIGEST]   an image in a registry (loopback hosts speak plain HTTP)
  oci:PATH[:TAG]                              an OCI image layout directory
  docker-archive:PATH[:NAME:TAG]              a `docker save` tarball
"""


def _common(*, jobs: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--insecure", action="store_true", help="allow plain HTTP and unverified TLS")
    parent.add_argument(
        "-q", "--quiet", action="store_true", help="no progress output (no --json events either)"
    )
    parent.add_argument(
        "--json", action="store_true", help="the result as JSON on stdout; progress as JSON events on stderr"
    )
    parent.add_argument(
        "--config", metavar="DIR", help="Docker config directory (default $DOCKER_CONFIG or ~/.docker)"
    )
    parent.add_argument("-v", "--verbose", action="store_true", help="log retries and resumes on stderr")
    parent.add_argument(
        "--authfile",
        metavar="FILE",
        help="credentials file (auth.json; default $REGISTRY_AUTH_FILE, else --config)",
    )
    parent.add_argument("--cacert", metavar="FILE", help="also trust this CA certificate (PEM)")
    parent.add_argument(
        "--cert-dir",
        metavar="DIR",
        help="*.crt CAs and a *.cert/*.key client pair (default /etc/docker/certs.d/HOST:PORT/, base $DIST_CERTS_D)",
    )
    if jobs:
        parent.add_argument("-j", "--jobs", type=int, default=4, help="parallel blob transfers (default 4)")
        parent.add_argument(
            "--src-creds",
            metavar="USER[:PASS]",
            help="credentials for the source registry (blob get: the registry)",
        )
        parent.add_argument("--dest-creds", metavar="USER[:PASS]", help="credentials for the destination")
        parent.add_argument(
            "--referrers",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="copy signatures, SBOMs and other referrers too (default: on between two registries)",
        )
    else:
        parent.add_argument("--creds", metavar="USER[:PASS]", help="credentials for the registry")
    return parent


def _platform_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help=f"pick this image of an index (default {host_platform()})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dist",
        description="Copy images between registries, OCI layouts and docker archives; inspect and manage registries.",
        epilog=LOCATIONS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, transfer = _common(), _common(jobs=True)

    p = sub.add_parser(
        "copy",
        parents=[transfer],
        help="copy an image",
        epilog=LOCATIONS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source")
    p.add_argument("destination")
    p.add_argument("--all", action="store_true", help="copy every image of an index (digests unchanged)")
    p.add_argument(
        "--all-tags",
        action="store_true",
        help="copy every tag of a repository (HOST/REPO to HOST/REPO), as sync",
    )
    _platform_options(p)

    p = sub.add_parser(
        "sync", parents=[transfer], help="mirror repositories: every tag, skipping what is there"
    )
    p.add_argument("source", help="HOST/REPO, or HOST[/PREFIX] with --file")
    p.add_argument("destination", help="HOST/REPO, or HOST[/PREFIX] with --file")
    p.add_argument("--tags", metavar="REGEX", help="only tags matching this regex (the whole tag)")
    p.add_argument("--file", metavar="YAML", help="the repositories to mirror (see the README)")
    p.add_argument("-P", "--parallel", type=int, default=4, help="tags copied at once (default 4)")

    for name, text in (
        ("inspect", "describe an image or index"),
        ("digest", "print an image's digest"),
        ("manifest", "print a manifest exactly as stored"),
    ):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("reference", help="a location (registry, oci:, docker-archive:)")
        _platform_options(p)
        if name == "inspect":
            p.add_argument("--format", metavar="TEMPLATE", help="a Jinja template over the JSON value")

    p = sub.add_parser("ls", parents=[common], help="list a repository's tags")
    p.add_argument("repository", help="HOST[:PORT]/REPO")
    p.add_argument("-n", "--page-size", type=int, help="tags per request")
    p.add_argument(
        "--format", metavar="TEMPLATE", help="a Jinja template per tag ({{ tag }}, {{ repository }})"
    )
    p = sub.add_parser("catalog", parents=[common], help="list a registry's repositories")
    p.add_argument("host", help="HOST[:PORT]")
    p.add_argument("-n", "--page-size", type=int, help="repositories per request")
    p = sub.add_parser("delete", parents=[common], help="delete a manifest (a tag resolves to its digest)")
    p.add_argument("reference", help="HOST[:PORT]/REPO:TAG or @DIGEST")
    p.add_argument("--tag", action="store_true", help="delete only the tag (where the registry allows it)")
    p = sub.add_parser(
        "tag", parents=[common], help="add tags to an image (a manifest PUT, no blob transfer)"
    )
    p.add_argument("reference", help="HOST[:PORT]/REPO:TAG or @DIGEST")
    p.add_argument("tags", nargs="+", metavar="NEWTAG")
    p = sub.add_parser("referrers", parents=[common], help="list the artifacts whose subject is an image")
    p.add_argument("reference", help="HOST[:PORT]/REPO:TAG or @DIGEST")
    p.add_argument("--artifact-type", metavar="TYPE", help="only this artifactType")
    p = sub.add_parser("attach", parents=[common], help="push a file as an artifact referring to an image")
    p.add_argument("reference", help="HOST[:PORT]/REPO:TAG or @DIGEST (the subject)")
    p.add_argument("file")
    p.add_argument("--artifact-type", required=True, metavar="TYPE")
    p.add_argument("--media-type", default="application/octet-stream", help="the file's layer media type")
    p.add_argument("--annotation", action="append", metavar="KEY=VALUE", help="a manifest annotation")

    blob = sub.add_parser("blob", help="get or put one blob").add_subparsers(
        dest="blob", required=True, metavar="ACTION"
    )
    p = blob.add_parser("get", parents=[transfer], help="download a blob (stdout by default)")
    p.add_argument("reference", help="HOST[:PORT]/REPO@DIGEST")
    p.add_argument("-o", "--output", help="file to write (default stdout)")
    p = blob.add_parser("put", parents=[transfer], help="upload a file as a blob; prints its digest")
    p.add_argument("repository", help="HOST[:PORT]/REPO")
    p.add_argument("file")

    p = sub.add_parser("login", parents=[common], help="store credentials in the Docker config")
    p.add_argument("host")
    p.add_argument("-u", "--username")
    p.add_argument("-p", "--password")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p = sub.add_parser("logout", parents=[common], help="remove stored credentials")
    p.add_argument("host")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="dist: %(message)s", stream=sys.stderr
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    command = f"blob {args.blob}" if args.command == "blob" else args.command
    ctx = Context(args)
    commands = {
        **COMMANDS,
        "sync": cmd_sync,
        "tag": cmd_tag,
        "referrers": cmd_referrers,
        "attach": cmd_attach,
    }
    try:
        return commands[command](ctx)
    except (ClientError, ProtocolError, StoreError, OSError) as exc:
        print(f"dist: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dist: interrupted", file=sys.stderr)
        return 130
    finally:
        ctx.close()


class _Version(argparse.Action):
    """``--version``, looked up only when asked for (reading the package metadata costs every start ~30 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"dist {_version()}")
        parser.exit()


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("pydistribution")
    except metadata.PackageNotFoundError:
        return "unknown"


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
