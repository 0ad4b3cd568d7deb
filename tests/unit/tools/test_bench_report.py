"""registry-bench's report: medians and ratios, the table, the JSON document and the last ``ratios:`` line."""

from __future__ import annotations

import json

import pytest
from registry_toolkit.bench.report import BASELINE, OURS, SPECS, Results, document, ratios_line, table


def filled() -> Results:
    results = Results()
    for value in (300.0, 330.0, 310.0):
        results.add("push-mono", OURS, value)
    for value in (100.0, 110.0, 90.0):
        results.add("push-mono", BASELINE, value)
    results.add("pull", OURS, 1900.0)
    results.add("pull", BASELINE, 2000.0)
    results.add("pull-nginx", OURS, 1900.0)
    results.add("pull-nginx", BASELINE, 2500.0)
    results.add("rss-push", OURS, 80.4)
    results.add("cold-start", OURS, 0.449)
    results.fail("catalog", OURS, "LoadFailed: no answers")
    return results


def test_ratio_is_median_over_median() -> None:
    results = filled()
    assert results.median("push-mono", OURS) == 310.0
    assert results.ratio("push-mono") == pytest.approx(3.1)
    assert results.ratio("catalog") is None


def test_ratios_line_names_every_key_figure() -> None:
    line = ratios_line(filled())
    assert line == (
        "ratios: push-mono 3.10x push-single n/a push-chunked n/a pull 0.95x (0.76 of nginx)"
        " manifest-get n/a manifest-head n/a manifest-put n/a tags n/a catalog n/a rss-push 80MiB rss-pull n/a"
        " pss-push n/a pss-pull n/a"
        " cold-start 0.45s cold-start-all n/a"
    )


def test_table_rows_only_for_measured_metrics() -> None:
    text = table(filled())
    rows = text.splitlines()[2:]
    assert len(rows) == 6  # push-mono, pull, pull-nginx, catalog (failed), rss-push, cold-start
    assert "| 310 (300-330) | 100 (90.0-110) | 3.10x |" in rows[0]
    assert any("| error |" in row for row in rows)


def test_document_is_json_with_samples_and_failures() -> None:
    doc = json.loads(json.dumps(document(filled())))
    assert doc["metrics"]["push-mono"]["ours"]["samples"] == [300.0, 330.0, 310.0]
    assert doc["metrics"]["cold-start"]["better"] == "lower"
    assert doc["failures"] == ["catalog (ours): LoadFailed: no answers"]
    assert doc["ratios_line"].startswith("ratios: ")


def test_unknown_metric_is_refused() -> None:
    with pytest.raises(KeyError):
        Results().add("push-mono-typo", OURS, 1.0)


def test_metric_keys_are_unique() -> None:
    keys = [spec.key for spec in SPECS]
    assert len(keys) == len(set(keys))
