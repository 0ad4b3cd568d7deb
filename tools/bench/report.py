"""Samples → the Markdown table, the JSON document and the last ``ratios:`` line.

Every metric has two series, ``ours`` and a baseline (the reference registry, or for the pull limit line nginx,
or for the single-request push the reference's monolithic push, which it has instead); the ratio is always
median(ours) / median(baseline). Failed attempts are kept as messages beside the samples.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

OURS, BASELINE = "ours", "baseline"


@dataclass(frozen=True)
class Spec:
    """What a metric is: its key, what the row says, its unit and which way is better."""

    key: str
    label: str
    unit: str
    higher_is_better: bool = True


def _request_specs(key: str, label: str) -> list[Spec]:
    return [
        Spec(key, f"{label}: throughput", "req/s"),
        Spec(f"{key}-p50", f"{label}: p50 latency", "ms", False),
        Spec(f"{key}-p99", f"{label}: p99 latency", "ms", False),
        Spec(f"{key}-cpu", f"{label}: server CPU", "CPU-s/1k req", False),
    ]


SPECS: list[Spec] = [
    Spec("push-mono", "blob push, monolithic: POST + one PUT ?digest=", "MiB/s"),
    Spec(
        "push-single",
        "blob push, single POST ?digest= (baseline: reference monolithic, it has none)",
        "MiB/s",
    ),
    Spec("push-chunked", "blob push, chunked: POST + PATCH Content-Range + PUT", "MiB/s"),
    Spec("pull", "blob pull", "MiB/s"),
    Spec("pull-nginx", "blob pull (baseline: nginx sendfile of the same file, the limit line)", "MiB/s"),
    *_request_specs("manifest-get", "manifest GET by tag (wrk)"),
    *_request_specs("manifest-head", "manifest HEAD by tag (ab)"),
    *_request_specs("manifest-put", "manifest PUT of a new manifest moving a tag (wrk, one tag per connection)"),
    *_request_specs("tags", "tags list"),
    *_request_specs("catalog", "catalog page"),
    Spec("rss-idle", "server RSS, idle (process tree)", "MiB", False),
    Spec("rss-push", "server peak RSS during a push", "MiB", False),
    Spec("rss-pull", "server peak RSS during a pull", "MiB", False),
    Spec("pss-idle", "server memory (PSS, shared pages once), idle", "MiB", False),
    Spec("pss-push", "server peak memory (PSS) during a push", "MiB", False),
    Spec("pss-pull", "server peak memory (PSS) during a pull", "MiB", False),
    Spec("cpu-push", "server CPU per GiB pushed", "CPU-s/GiB", False),
    Spec("cpu-pull", "server CPU per GiB pulled", "CPU-s/GiB", False),
    Spec("cold-start", "cold start: spawn to first 200 on /v2/", "s", False),
    Spec(
        "cold-start-all",
        "cold start: spawn to every operation answering (an upload status: 404)",
        "s",
        False,
    ),
]
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}


@dataclass
class Series:
    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    def summary(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "min": min(self.values, default=None),
            "max": max(self.values, default=None),
            "samples": self.values,
            "errors": self.errors,
        }


@dataclass
class Results:
    """Every sample of a run, by metric key and side (``ours`` or ``baseline``)."""

    series: dict[tuple[str, str], Series] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)

    def _get(self, key: str, side: str) -> Series:
        if key not in SPEC_BY_KEY or side not in (OURS, BASELINE):
            raise KeyError((key, side))
        return self.series.setdefault((key, side), Series())

    def add(self, key: str, side: str, value: float) -> None:
        self._get(key, side).values.append(value)

    def fail(self, key: str, side: str, error: str) -> None:
        self._get(key, side).errors.append(error)

    def median(self, key: str, side: str) -> float | None:
        found = self.series.get((key, side))
        return found.median if found else None

    def ratio(self, key: str) -> float | None:
        ours, base = self.median(key, OURS), self.median(key, BASELINE)
        return ours / base if ours is not None and base else None

    def failures(self) -> list[str]:
        return [f"{key} ({side}): {error}" for (key, side), s in self.series.items() for error in s.errors]


def number(value: float) -> str:
    """A figure to three significant digits, whole numbers from 100 on."""
    if math.isnan(value):
        return "nan"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def _cell(series: Series | None) -> str:
    if series is None or not series.values:
        return "error" if series and series.errors else "—"
    median, low, high = series.median or 0.0, min(series.values), max(series.values)
    if len(series.values) == 1:
        return number(median)
    return f"{number(median)} ({number(low)}-{number(high)})"


def table(results: Results) -> str:
    """The Markdown table: one row per metric that has any sample or error."""
    lines = [
        "| measurement | unit | ours: median (min-max) | baseline: median (min-max) | ours/baseline |",
        "|---|---|---|---|---|",
    ]
    for spec in SPECS:
        ours, base = results.series.get((spec.key, OURS)), results.series.get((spec.key, BASELINE))
        if ours is None and base is None:
            continue
        ratio = results.ratio(spec.key)
        better = "" if spec.higher_is_better else " (lower is better)"
        ratio_text = f"{ratio:.2f}x" if ratio is not None else "—"
        lines.append(f"| {spec.label} | {spec.unit}{better} | {_cell(ours)} | {_cell(base)} | {ratio_text} |")
    return "\n".join(lines)


def ratios(results: Results) -> dict[str, float | None]:
    """The key figures: throughput ratios ours/reference, ours' pull against nginx, ours' memory and start-up."""
    keys = (
        "push-mono",
        "push-single",
        "push-chunked",
        "pull",
        "pull-nginx",
        "manifest-get",
        "manifest-head",
        "manifest-put",
        "tags",
        "catalog",
    )
    found: dict[str, float | None] = {key: results.ratio(key) for key in keys}
    for key in ("rss-push", "rss-pull", "pss-push", "pss-pull", "cold-start", "cold-start-all"):
        found[key] = results.median(key, OURS)
    return found


def ratios_line(results: Results) -> str:
    values = ratios(results)

    def ratio(key: str) -> str:
        value = values[key]
        return f"{value:.2f}x" if value is not None else "n/a"

    def absolute(key: str, fmt: str) -> str:
        value = values[key]
        return fmt.format(value) if value is not None else "n/a"

    nginx = values["pull-nginx"]
    parts = [
        f"push-mono {ratio('push-mono')}",
        f"push-single {ratio('push-single')}",
        f"push-chunked {ratio('push-chunked')}",
        f"pull {ratio('pull')} ({f'{nginx:.2f}' if nginx is not None else 'n/a'} of nginx)",
        *(
            f"{key} {ratio(key)}"
            for key in ("manifest-get", "manifest-head", "manifest-put", "tags", "catalog")
        ),
        f"rss-push {absolute('rss-push', '{:.0f}MiB')}",
        f"rss-pull {absolute('rss-pull', '{:.0f}MiB')}",
        f"pss-push {absolute('pss-push', '{:.0f}MiB')}",
        f"pss-pull {absolute('pss-pull', '{:.0f}MiB')}",
        f"cold-start {absolute('cold-start', '{:.2f}s')}",
        f"cold-start-all {absolute('cold-start-all', '{:.2f}s')}",
    ]
    return "ratios: " + " ".join(parts)


def document(results: Results) -> dict[str, Any]:
    """Everything, for machines (``--json``)."""
    metrics: dict[str, Any] = {}
    for spec in SPECS:
        ours, base = results.series.get((spec.key, OURS)), results.series.get((spec.key, BASELINE))
        if ours is None and base is None:
            continue
        metrics[spec.key] = {
            "label": spec.label,
            "unit": spec.unit,
            "better": "higher" if spec.higher_is_better else "lower",
            OURS: (ours or Series()).summary(),
            BASELINE: (base or Series()).summary(),
            "ratio": results.ratio(spec.key),
        }
    return {
        **results.context,
        "metrics": metrics,
        "ratios": ratios(results),
        "ratios_line": ratios_line(results),
        "failures": results.failures(),
    }
