"""The README's figures: a block rendered from the bench's own JSON documents, parsed back, embedded between markers.

One block per invocation of ``registry-bench`` (one run per ``--data-dir``, each a column group)::

    <!-- bench:begin -->
    - date: … / machine: … / command: … / rounds: … / servers: …
    - <medium>: what is under the data dir, load average at start, share of the pulled blob in the page cache
    | measurement | unit | target | <medium>: ours | <medium>: reference | <medium>: ours/reference | …
    <!-- bench:end -->

Each figure is the median of the rounds with their range (min to max); a ratio is the median of the per-round
ratios (each round runs both servers back to back, in alternating order) with their range. ``parse`` reads
a block back (a test checks the README's against it); ``embed`` swaps the README's block for a new one.

``python -m registry_toolkit.bench.readme [--readme README.md] RUN.json…`` renders saved ``--json`` documents.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_toolkit.bench.report import BASELINE, OURS, SPEC_BY_KEY, number

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
TIMES, DASH = "\u00d7", "\u2013"  # multiplication sign and en dash, as the README writes ratios and ranges

# The README's rows and the targets for them (ratios ours/reference unless a unit says otherwise).
ROWS: list[tuple[str, str]] = [
    ("push-mono", f"≥ 2.5{TIMES}"),
    ("push-single", ""),
    ("push-chunked", f"≥ 2.5{TIMES}"),
    ("pull", f"≥ 1.0{TIMES}"),
    ("pull-nginx", f"≥ 0.95{TIMES}"),
    ("manifest-get", f"≥ 8{TIMES}"),
    ("manifest-head", f"≥ 8{TIMES}"),
    ("manifest-put", ""),
    ("tags", f"≥ 5{TIMES}"),
    ("catalog", f"≥ 4{TIMES}"),
    ("rss-idle", "< 100 MiB"),
    ("rss-push", "< 100 MiB"),
    ("rss-pull", "< 100 MiB"),
    ("cpu-push", ""),
    ("cpu-pull", ""),
    ("cold-start", "< 0.5 s"),
    ("cold-start-all", ""),
]
# With --s3 the issue asks less: a chunked push and a pull (redirects off) at least as fast as the reference.
S3_TARGETS = {"push-mono": "", "push-chunked": f"≥ 1.0{TIMES}", "pull": f"≥ 1.0{TIMES}", "pull-nginx": ""}
HEADER_KEYS = ("date", "machine", "command", "rounds", "servers")
SUFFIXES = ("ours", "reference", "ours/reference")
VALUE = re.compile(rf"(?:—|error|nan|[\d.e+-]+(?: \([\d.e+-]+{DASH}[\d.e+-]+\))?)")
RATIO = re.compile(rf"(?:—|[\d.]+{TIMES}(?: \([\d.]+{DASH}[\d.]+\))?)")
BULLET = re.compile(r"- ([\w/ -]+?): (.+)")


def _figure(values: Sequence[float]) -> str:
    if not values:
        return "—"
    median = statistics.median(values)
    if len(values) == 1:
        return number(median)
    return f"{number(median)} ({number(min(values))}{DASH}{number(max(values))})"


def _cell(metric: dict[str, Any] | None, side: str) -> str:
    if metric is None:
        return "—"
    series = metric[side]
    return _figure(series["samples"]) if series["samples"] else ("error" if series["errors"] else "—")


def _ratio(metric: dict[str, Any] | None) -> str:
    """The median of per-round ratios with their range; median over median when the rounds do not pair up."""
    if metric is None:
        return "—"
    ours, base = metric[OURS]["samples"], metric[BASELINE]["samples"]
    if ours and len(ours) == len(base) and all(base):
        ratios = [o / b for o, b in zip(ours, base, strict=True)]
        median = statistics.median(ratios)
        if len(ratios) == 1:
            return f"{median:.2f}{TIMES}"
        return f"{median:.2f}{TIMES} ({min(ratios):.2f}{DASH}{max(ratios):.2f})"
    return f"{metric['ratio']:.2f}{TIMES}" if metric.get("ratio") else "—"


def labels(documents: Sequence[dict[str, Any]]) -> list[str]:
    """Column-group names: each run's medium (``disk``, ``tmpfs``, ``s3``), numbered when two share one."""
    names: list[str] = []
    for doc in documents:
        base = doc.get("medium", {}).get("label", "data")
        name, count = base, 2
        while name in names:
            name, count = f"{base} {count}", count + 1
        names.append(name)
    return names


def _percent(values: Sequence[float]) -> str:
    low, high = f"{min(values) * 100:.0f}", f"{max(values) * 100:.0f}"
    return f"{low} %" if low == high else f"{low}{DASH}{high} %"


def _cached(doc: dict[str, Any]) -> str:
    cached = doc.get("page_cached") or {}
    if not cached:
        return "pulled blob in the page cache: not measured"
    parts = [f"{side} {_percent(values)}" for side, values in cached.items()]
    return "pulled blob in the page cache before each pull: " + ", ".join(parts)


def render(documents: Sequence[dict[str, Any]]) -> str:
    """The README block (without its markers) for the runs of one invocation, in the order given."""
    if not documents:
        raise ValueError("no bench documents to render")
    first, names = documents[0], labels(documents)
    machine, profile = first["machine"], first["profile"]
    lines = [
        f"- date: {machine['date']}",
        f"- machine: {machine['cpus']} CPUs, {machine['kernel']}, Python {machine['python']}",
        f"- command: `{first['command_line']}`",
        f"- rounds: {profile['rounds']} per medium (profile {profile['name']}: blob {profile['blob_mib']} MiB,"
        f" {profile['chunk_mib']} MiB chunks, RSS/CPU blob {profile['resource_mib']} MiB, {profile['tags']} tags,"
        f" catalog n={profile['catalog_page']} of {profile['repositories']} repositories,"
        f" cold starts: {profile['cold_starts']})",
        f"- servers: ours `{first['ours']['command']}`; reference {first['reference']['version']}",
    ]
    warmed = first.get("memory_warmed")
    if warmed:
        low, mid, high = warmed["mib_per_s"]
        lines.append(
            f"- memory: {warmed['bytes'] >> 20} MiB written to /dev/shm{_writers(warmed)} and freed right before"
            " each timed push"
            f" (`--warm-memory`; {mid:.0f} MiB/s, {low:.0f}{DASH}{high:.0f}, over the first medium's"
            f" {warmed['pushes']}), so that pushes write memory the machine has just touched"
        )
    for name, doc in zip(names, documents, strict=True):
        medium = doc.get("medium", {})
        lines.append(
            f"- {name}: {medium.get('description', 'unknown')} (data dir {medium.get('data_dir', '?')}),"
            f" load average {doc['load_average']:.1f} at start, {doc['seconds']:.0f} s; {_cached(doc)}"
            + _slow_writes(doc)
        )
    header = ["measurement", "unit", "target"] + [f"{n}: {s}" for n in names for s in SUFFIXES]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    s3 = all(doc.get("medium", {}).get("label") == "s3" for doc in documents)
    for key, filesystem_target in ROWS:
        spec = SPEC_BY_KEY[key]
        target = S3_TARGETS.get(key, filesystem_target) if s3 else filesystem_target
        metrics = [doc["metrics"].get(key) for doc in documents]
        if all(metric is None for metric in metrics):
            continue
        unit = spec.unit + ("" if spec.higher_is_better else ", lower is better")
        cells = [spec.label, unit, target]
        for metric in metrics:
            cells += [_cell(metric, OURS), _cell(metric, BASELINE), _ratio(metric)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: A warm-up write slower than this met memory the host had taken back (see ``machine``): noted per medium.
SLOW_WARM_UP = 1000.0


def _writers(warmed: dict[str, Any]) -> str:
    """`` (a share from each of N CPUs)`` when the run wrote its warm-up from a thread pinned to each CPU."""
    writers = warmed.get("writers", 0)
    return f" (a share from each of {writers} CPUs)" if writers > 1 else ""


def _slow_writes(doc: dict[str, Any]) -> str:
    """``; warm-up writes below …`` for a run that recorded each write (``memory_warmed.each``), else ``""``."""
    each = (doc.get("memory_warmed") or {}).get("each")
    if not each:
        return ""
    slow = [w for w in each if w["mib_per_s"] < SLOW_WARM_UP]
    ours = sum(1 for w in slow if w["side"] == OURS)
    return (
        f"; warm-up writes below {SLOW_WARM_UP:.0f} MiB/s: {len(slow)} of {len(each)}"
        f" ({ours} before a push of ours, {len(slow) - ours} of the reference)"
    )


@dataclass(frozen=True)
class Block:
    """A parsed README block: its header bullets, its media (column groups) and its rows by label."""

    header: dict[str, str]
    media: list[str]
    rows: dict[str, list[str]]


def parse(block: str) -> Block:
    """Read a block that ``render`` wrote; ValueError naming the first thing out of format."""
    header: dict[str, str] = {}
    table: list[list[str]] = []
    for line in block.strip().splitlines():
        if line.startswith("|"):
            table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif line.strip():
            found = BULLET.fullmatch(line.strip())
            if not found:
                raise ValueError(f"not a '- key: value' line: {line!r}")
            header[found.group(1)] = found.group(2)
    missing = [key for key in HEADER_KEYS if key not in header]
    if missing:
        raise ValueError(f"header lines missing: {missing}")
    if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", header["date"]):
        raise ValueError(f"date: {header['date']!r}")
    if not re.fullmatch(r"\d+ CPUs, .+, Python [\d.]+", header["machine"]):
        raise ValueError(f"machine: {header['machine']!r}")
    if not re.fullmatch(r"`registry-bench( [^`]*)?`", header["command"]):
        raise ValueError(f"command: {header['command']!r}")
    if not re.match(r"\d+ per medium", header["rounds"]):
        raise ValueError(f"rounds: {header['rounds']!r}")
    if len(table) < 3 or table[0][:3] != ["measurement", "unit", "target"] or (len(table[0]) - 3) % 3:
        raise ValueError("the table's header is not measurement | unit | target | <medium>: ours | …")
    media = [cell.split(": ", 1)[0] for cell in table[0][3::3]]
    if table[0][3:] != [f"{m}: {s}" for m in media for s in SUFFIXES]:
        raise ValueError(f"column groups: {table[0][3:]}")
    for medium in media:
        if medium not in header:
            raise ValueError(f"no header line describes the medium {medium!r}")
    if set(table[1]) != {"---"}:
        raise ValueError("the table's second line is not its separator")
    known = {SPEC_BY_KEY[key].label: (key, target) for key, target in ROWS}
    rows: dict[str, list[str]] = {}
    for cells in table[2:]:
        if len(cells) != len(table[0]) or cells[0] not in known:
            raise ValueError(f"row: {cells}")
        key, target = known[cells[0]]
        if cells[2] not in (target, S3_TARGETS.get(key, target)) or not cells[1].startswith(
            SPEC_BY_KEY[key].unit
        ):
            raise ValueError(f"unit or target of {cells[0]!r}: {cells[1:3]}")
        for index, cell in enumerate(cells[3:]):
            if not (RATIO if index % 3 == 2 else VALUE).fullmatch(cell):
                raise ValueError(f"cell {cell!r} of {cells[0]!r}")
        rows[cells[0]] = cells[3:]
    if not rows:
        raise ValueError("the table has no rows")
    return Block(header, media, rows)


def extract(text: str) -> str:
    """The block between the markers of a README's text."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {BEGIN} … {END} markers")
    return text[start + len(BEGIN) : end].strip("\n")


def embed(text: str, block: str) -> str:
    """``text`` with its block between the markers replaced by ``block``."""
    extract(text)  # the markers are there, in order
    start, end = text.find(BEGIN) + len(BEGIN), text.find(END)
    return f"{text[:start]}\n{block}\n{text[end:]}"


def load(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The run documents in ``--json`` files: one run each, or ``{"runs": [...]}`` for several data dirs."""
    documents: list[dict[str, Any]] = []
    for path in paths:
        doc = json.loads(path.read_text())
        documents.extend(doc.get("runs", [doc]))
    return documents


def write_readme(readme: Path, block: str) -> None:
    readme.write_text(embed(readme.read_text(encoding="utf-8"), block), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry_toolkit.bench.readme", description=__doc__)
    parser.add_argument(
        "documents", nargs="+", type=Path, metavar="RUN.json", help="registry-bench --json files"
    )
    parser.add_argument("--readme", type=Path, help="replace the block between the markers of this file")
    args = parser.parse_args(argv)
    block = render(load(args.documents))
    parse(block)
    if args.readme:
        write_readme(args.readme, block)
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
