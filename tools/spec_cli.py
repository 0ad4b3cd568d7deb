"""`registry-spec`: render generated/ from the descriptor, or check that it is current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import registry_generated
from registry_spec.render import stale_files, write_all

DEFAULT_TARGET = Path(registry_generated.__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry-spec", description=__doc__)
    parser.add_argument("command", choices=["render", "check"])
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="the generated/ folder")
    args = parser.parse_args(argv)
    if args.command == "render":
        for path in write_all(args.target):
            print(f"wrote {path}")
        return 0
    stale = stale_files(args.target)
    for relative in stale:
        print(f"stale: {args.target / relative} (run `registry-spec render`)", file=sys.stderr)
    if not stale:
        print(f"{args.target}: up to date")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
