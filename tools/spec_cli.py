"""`registry-spec`: render generated/ from the descriptor, check that it is current, or render any Jinja template
against the descriptor (``registry-spec template TEMPLATE... [-o DIR]``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jinja2
import registry_generated
from registry_spec.render import render_user_templates, stale_files, write_all

DEFAULT_TARGET = Path(registry_generated.__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry-spec", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("render", "write generated/"), ("check", "exit 1 if generated/ is stale")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="the generated/ folder")
    template = commands.add_parser(
        "template", help="render Jinja templates against the descriptor (the context: see the README)"
    )
    template.add_argument("templates", type=Path, nargs="+", metavar="TEMPLATE")
    template.add_argument(
        "-o", "--output", type=Path, help="write each to DIR/<name without .j2>; else stdout"
    )
    args = parser.parse_args(argv)
    if args.command == "template":
        return _template(args.templates, args.output)
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


def _template(templates: list[Path], output: Path | None) -> int:
    for template in templates:
        if not template.is_file():
            print(f"registry-spec template: {template}: no such file", file=sys.stderr)
            return 2
    try:
        rendered = render_user_templates(templates)
    except jinja2.TemplateError as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        print(f"registry-spec template: {exc}{where}", file=sys.stderr)
        return 1
    for name, text in rendered.items():
        if output is None:
            sys.stdout.write(text)
        else:
            output.mkdir(parents=True, exist_ok=True)
            (output / name).write_text(text, encoding="utf-8")
            print(f"wrote {output / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
