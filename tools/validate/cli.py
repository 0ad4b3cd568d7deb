"""`registry-validate URL`: check a registry against the OCI distribution-spec and Docker Registry V2 workflows.

Exit status: 0 when every check passed or was unsupported-optional, 1 when a check failed, 2 when the
command line is wrong or the registry cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from registry_toolkit.validate import html, junit
from registry_toolkit.validate.options import FEATURES, WORKFLOWS, Options, random_namespace
from registry_toolkit.validate.outcome import Result, Status
from registry_toolkit.validate.report import Report, failure_text, result_line
from registry_toolkit.validate.runner import run

PASSWORD_ENV = "REGISTRY_VALIDATE_PASSWORD"
DESCRIPTION = (
    "Check a registry against the OCI distribution-spec 1.1 and Docker Registry V2 workflows. "
    "Exit status 0: every check passed or was unsupported-optional; 1: a check failed; 2: bad usage or unreachable."
)
EPILOG = "optional features (--expect): " + "; ".join(f"{name}: {text}" for name, text in FEATURES.items())


def _names(value: str, known: tuple[str, ...] | list[str], what: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in value.split(",") if n.strip() and n.strip() != "none")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})")
    return names


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="registry-validate", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("url", help="the registry, e.g. https://registry.example (the API is under /v2/)")
    auth = p.add_argument_group(
        "authentication (Basic, or the Bearer token flow of the registry's challenge)"
    )
    auth.add_argument("--username", "-u")
    auth.add_argument("--password", "-p", help=f"(or set {PASSWORD_ENV})")
    scope = p.add_argument_group("what to run")
    scope.add_argument("--namespace", help="repository to use (default: validate/<random>)")
    scope.add_argument(
        "--crossmount-namespace", help="repository to mount into (default: <namespace>-crossmount)"
    )
    scope.add_argument(
        "--workflows",
        type=lambda v: _names(v, WORKFLOWS, "workflows"),
        default=WORKFLOWS,
        help=f"comma-separated, 'none' for the fuzzer alone (default: {','.join(WORKFLOWS)})",
    )
    scope.add_argument(
        "--expect",
        type=lambda v: _names(v, list(FEATURES), "features"),
        default=(),
        help="optional features whose absence is a failure, e.g. referrers,monolithic-post",
    )
    scope.add_argument(
        "--no-deletes", action="store_true", help="never delete anything (delete checks untried)"
    )
    scope.add_argument(
        "--seed", type=int, help="seed of the pushed content and the fuzzer (reproducible runs)"
    )
    tls = p.add_argument_group("TLS").add_mutually_exclusive_group()
    tls.add_argument("--insecure", action="store_true", help="do not verify the server certificate")
    tls.add_argument("--cacert", type=Path, help="CA bundle (PEM) to verify the server certificate with")
    fuzz = p.add_argument_group("fuzzing (schemathesis over generated/openapi.yaml)")
    fuzz.add_argument("--fuzz", action="store_true", help="also fuzz every operation and the stateful flows")
    fuzz.add_argument(
        "--max-examples",
        type=int,
        default=50,
        help="cases per operation and generation mode, and state machine runs (default 50)",
    )
    fuzz.add_argument("--fuzz-seconds", type=float, help="stop fuzzing after this many seconds")
    out = p.add_argument_group("output")
    out.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML to PATH")
    out.add_argument("--html", type=Path, metavar="PATH", help="write a self-contained HTML report to PATH")
    out.add_argument("--quiet", "-q", action="store_true", help="print failures and the summary only")
    out.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    return p


def options_from(args: argparse.Namespace) -> Options:
    verify: bool | str = str(args.cacert) if args.cacert else not args.insecure
    if args.no_deletes and "deletes" in args.expect:
        raise ValueError("--no-deletes and --expect deletes contradict each other")
    return Options(
        url=args.url,
        namespace=args.namespace or random_namespace(),
        crossmount_namespace=args.crossmount_namespace,
        username=args.username,
        password=args.password if args.password is not None else os.environ.get(PASSWORD_ENV),
        workflows=args.workflows,
        expect=frozenset(args.expect),
        deletes=not args.no_deletes,
        verify=verify,
        timeout=args.timeout,
        seed=args.seed,
        fuzz=args.fuzz,
        max_examples=args.max_examples,
        fuzz_seconds=args.fuzz_seconds,
    )


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        options = options_from(args)
    except ValueError as exc:
        p.error(str(exc))

    def progress(result: Result) -> None:
        if not args.quiet or result.status is Status.FAIL:
            print(result_line(result), flush=True)

    report = run(options, progress=progress)
    _print_failures(report)
    if args.junit:
        junit.write(report, args.junit)
    if args.html:
        html.write(report, args.html)
    print(report.summary())
    if unreachable(report):
        print(f"registry-validate: cannot reach {options.base_url}", file=sys.stderr)
        return 2
    return report.exit_status


def unreachable(report: Report) -> bool:
    first = report.results[0] if report.results else None
    return bool(first and first.status is Status.FAIL and first.failing and first.failing.status is None)


def _print_failures(report: Report) -> None:
    if report.failed:
        print("\nFailures:\n")
        for result in report.failed:
            print(failure_text(result) + "\n")
