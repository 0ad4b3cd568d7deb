"""`registry-bench`: our registry against the reference (distribution 2.8.2), in alternating A/B rounds.

Prints a Markdown table of medians (min-max) and ours/baseline ratios for each data directory (``--data-dir``,
repeatable: one whole run per directory, e.g. one on disk and one on tmpfs); the last line of stdout is the key
ratios (of the last run). ``--markdown`` / ``--readme`` write the README's block of figures (``bench.readme``).
Progress goes to stderr. Exit status: 0 when every measurement ran, 1 when some failed (they are listed), 2 when
a required program is missing and could not be installed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from registry_toolkit.bench import machine, prerequisites, readme, report, scenarios
from registry_toolkit.bench.harness import open_bench
from registry_toolkit.bench.loads import LoadFailed
from registry_toolkit.bench.payloads import MiB
from registry_toolkit.bench.profiles import FULL, QUICK, SMOKE, Profile
from registry_toolkit.bench.report import BASELINE, OURS, Results
from registry_toolkit.bench.servers import ServerFailed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="registry-bench", description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="2 rounds, 128 MiB blobs, 2 s loads (a few minutes per data dir)"
    )
    size.add_argument(
        "--smoke", action="store_true", help="1 round, 4 MiB blob, 1 s loads: checks the bench runs"
    )
    parser.add_argument("--rounds", type=int, help="A/B rounds (default: 3; --quick 2; --smoke 1)")
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian", help="our ASGI server")
    parser.add_argument(
        "--workers", type=int, default=1, help="our worker processes (default 1, as registry serve)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help='also write every sample as JSON to PATH (several data dirs: {"runs": [one per dir]})',
    )
    parser.add_argument(
        "--data-dir",
        "--workdir",
        dest="data_dirs",
        type=Path,
        action="append",
        metavar="DIR",
        help="where both registries' data dirs, the blob files and nginx's file go (a temporary directory"
        " inside DIR); repeat it to run the whole bench once per DIR, e.g. --data-dir /var/tmp --data-dir"
        " /dev/shm for disk and tmpfs (default: /dev/shm when it has room)",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="PATH",
        help="write the README's block of figures (every run) to PATH",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        metavar="PATH",
        help="replace the block between <!-- bench:begin --> and <!-- bench:end --> in PATH (e.g. README.md)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (logs, configs, data)"
    )
    parser.add_argument(
        "--warm-memory",
        type=int,
        metavar="MIB",
        help="right before each timed push, write this many MiB to /dev/shm and free them, so that the push"
        " writes memory the machine has just touched (on VMs with free page reporting a page handed back to"
        " the host is slow to write again; see bench.machine); default twice the pushed blob, --smoke 0;"
        " 0 skips it",
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get install missing programs")
    parser.add_argument(
        "--ours-config",
        type=Path,
        metavar="YAML",
        help="merged into our registry's configuration (e.g. a notifications endpoint, to measure its cost)",
    )
    parser.add_argument(
        "--s3",
        action="store_true",
        help="both registries on S3 (one moto server, a bucket each, redirects off): push and pull only",
    )
    return parser.parse_args(argv)


def choose_profile(args: argparse.Namespace) -> Profile:
    base = SMOKE if args.smoke else QUICK if args.quick else FULL
    return base.with_rounds(args.rounds)


def default_workdir(profile: Profile) -> Path | None:
    """tmpfs when it has room: the data dirs then cost no disk I/O shared with other work, and the catalog's
    tens of thousands of files are made and removed in seconds (on a disk mounted with ``discard``, minutes).
    """
    shm = Path("/dev/shm")
    need = (profile.blob_mib * 4 + profile.resource_mib * 3 + 256) << 20
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 * need:
        return shm
    return None


def remove(workdir: Path) -> None:
    """``rm -rf``: tens of thousands of small files go faster than with shutil.rmtree."""
    if subprocess.run(["rm", "-rf", "--", str(workdir)], check=False).returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "unknown"


def run(
    profile: Profile,
    workdir: Path,
    *,
    server: str,
    workers: int,
    s3: bool = False,
    ours_config: Mapping[str, Any] | None = None,
    warm_mib: int | None = None,
) -> Results:
    with open_bench(
        profile, workdir, server=server, workers=workers, s3=s3, ours_config=ours_config
    ) as bench:
        bench.warm_bytes = (2 * profile.blob_mib if warm_mib is None else warm_mib) * MiB
        scenarios.warm_up(bench)
        for round_index in range(profile.rounds):
            scenarios.run_round(bench, round_index)
        results = bench.results
        if bench.warmed:
            rates = [w.mib_per_s for w in bench.warmed]
            results.context["memory_warmed"] = {
                "bytes": bench.warm_bytes,
                "pushes": len(rates),
                "writers": bench.warm_writers,
                "mib_per_s": [min(rates), statistics.median(rates), max(rates)],
                # in the order of each metric's samples on each side: a slow push can be set beside its write
                "each": [dataclasses.asdict(w) for w in bench.warmed],
            }
        if s3:
            results.context["notes"] = [scenarios.S3_SKIPPED]
            results.context["storage"] = "s3 (moto, one bucket per registry, redirect disabled)"
            return results
        for attempt in range(profile.cold_starts):
            for side in (BASELINE, OURS) if attempt % 2 == 0 else (OURS, BASELINE):
                scenarios.progress(
                    f"cold start {attempt + 1} of {'ours' if side == OURS else 'the reference'}"
                )
                scenarios.record(
                    results, side, "cold-start", partial(scenarios.cold_start, bench, side, attempt)
                )
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = choose_profile(args)
    problems = prerequisites.ensure(allow_install=not args.no_install)
    if problems:
        for problem in problems:
            print(f"registry-bench: missing {problem}", file=sys.stderr)
        return 2
    if args.readme:  # before minutes of measuring: the file must have the block's markers
        try:
            readme.extract(args.readme.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"registry-bench: --readme {args.readme}: {exc}", file=sys.stderr)
            return 2
    command_line = shlex.join(["registry-bench", *(sys.argv[1:] if argv is None else argv)])
    documents, status = [], 0
    for data_dir in args.data_dirs or [default_workdir(profile)]:
        results = run_once(args, profile, data_dir)
        if results is None:
            return 1
        results.context["command_line"] = command_line
        status = max(status, print_run(results))
        documents.append(report.document(results))
    if args.json:
        doc = documents[0] if len(documents) == 1 else {"runs": documents}
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    block = readme.render(documents)
    if args.markdown:
        args.markdown.write_text(block + "\n")
    if args.readme:
        readme.write_readme(args.readme, block)
    labels = readme.labels(documents)
    for label, doc in zip(labels, documents, strict=True):  # the last line: the (last) run's key ratios
        line = str(doc["ratios_line"])
        print(line if len(documents) == 1 else line.replace("ratios:", f"ratios ({label}):", 1))
    return status


def run_once(args: argparse.Namespace, profile: Profile, data_dir: Path | None) -> Results | None:
    """One whole run with everything under a temporary directory in ``data_dir``; None when setup failed."""
    workdir = Path(tempfile.mkdtemp(prefix="registry-bench-", dir=data_dir))
    medium = {"label": "s3", "description": "S3 (moto)"} if args.s3 else machine.medium(workdir.parent)
    scenarios.progress(f"data under {workdir} ({medium['description']})")
    started, load_average, described = time.monotonic(), os.getloadavg()[0], machine.describe()
    try:
        overlay = yaml.safe_load(args.ours_config.read_text()) if args.ours_config else None
        warm_mib = 0 if args.smoke and args.warm_memory is None else args.warm_memory
        results = run(
            profile,
            workdir,
            server=args.server,
            workers=args.workers,
            s3=args.s3,
            ours_config=overlay,
            warm_mib=warm_mib,
        )
        seconds = time.monotonic() - started
    except (ServerFailed, LoadFailed) as exc:  # a server that does not start or take the setup content
        print(f"registry-bench: setup failed: {exc}", file=sys.stderr)
        return None
    finally:
        if args.keep:
            print(f"registry-bench: kept {workdir}", file=sys.stderr)
        else:  # tens of thousands of small files: minutes on a disk mounted with discard
            scenarios.progress(f"removing {workdir}")
            remove(workdir)
            scenarios.progress(f"removed {workdir}")
    results.context.update(
        profile=profile.as_dict(),
        ours={"command": f"registry serve --server {args.server} --workers {args.workers}"},
        reference={"command": "docker-registry serve", "version": _version(["docker-registry", "--version"])},
        cpus=os.cpu_count(),
        load_average=load_average,
        workdir=str(workdir.parent),
        seconds=round(seconds, 1),  # seeding, starting and measuring; not the removal
        machine=described,
        medium={**medium, "data_dir": str(workdir.parent)},
    )
    return results


def print_run(results: Results) -> int:
    """The run's header, table, notes and failures on stdout; 1 when something failed."""
    print(header(results))
    print(report.table(results))
    for note in results.context.get("notes", ()):
        print(f"NOTE: {note}")
    for failure in results.failures():
        print(f"FAILED: {failure}")
    print()
    return 1 if results.failures() else 0


def header(results: Results) -> str:
    c, p = results.context, results.context["profile"]
    return "\n".join(
        [
            f"# registry-bench ({p['name']}: {p['rounds']} rounds, {c['seconds']} s, {c['cpus']} CPUs,"
            f" load average {c['load_average']:.1f} at start)",
            f"ours: {c['ours']['command']} | baseline: {c['reference']['version']} unless the row says otherwise",
            f"blob {p['blob_mib']} MiB (chunks of {p['chunk_mib']} MiB), RSS/CPU blob {p['resource_mib']} MiB;"
            f" manifests: {p['connections']} connections x {p['load_seconds']:g} s; tags list ({p['tags']} tags) and"
            f" catalog page (n={p['catalog_page']} of {p['repositories']} repositories): {p['list_connections']}"
            f" connections x {p['list_seconds']:g} s; data dirs under {c['workdir']}",
            f"storage: {c.get('storage', 'filesystem')}, on {c['medium']['description']}",
            "",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
