"""registry-bench's parsers of wrk and ab output, on output captured from real runs on loopback (bench_outputs/)."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import pytest
from registry_toolkit.bench.loads import LoadFailed, LoadResult, parse_ab, parse_wrk

OUTPUTS = Path(__file__).parent / "bench_outputs"
KB, MB = 1 << 10, 1 << 20  # wrk's "KB" and "MB" are binary


def captured(name: str) -> str:
    return (OUTPUTS / name).read_text()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # The bench's own runs: manifest GET (64 connections, Accept: OCI manifest), catalog page (4 connections).
        (
            "wrk_ours_manifest_get.txt",
            LoadResult(28835, 2.05, 14078.83, 3.17, 38.15, errors=0, non_2xx=0, bytes_read=23.46 * MB),
        ),
        (
            "wrk_ref_manifest_get.txt",
            LoadResult(1039, 2.02, 514.64, 110.32, 631.20, errors=0, non_2xx=0, bytes_read=848.25 * KB),
        ),
        (
            "wrk_ref_catalog.txt",
            LoadResult(421, 2.02, 208.91, 16.49, 71.28, errors=0, non_2xx=0, bytes_read=1.79 * MB),
        ),
        # GET /v2/ on ours: a clean run.
        (
            "wrk_ours_v2.txt",
            LoadResult(13346, 2.07, 6448.10, 7.86, 57.30, errors=0, non_2xx=0, bytes_read=2.20 * MB),
        ),
        # GET of an unknown manifest on the reference: every answer a 404, latencies in ms.
        (
            "wrk_ref_404.txt",
            LoadResult(486, 1.01, 482.41, 130.42, 474.41, errors=0, non_2xx=486, bytes_read=127.20 * KB),
        ),
        # A server slower than --timeout: every request a timeout, the latency table all zeros in µs.
        (
            "wrk_timeouts.txt",
            LoadResult(16, 3.01, 5.32, 0.0, 0.0, errors=16, non_2xx=0, bytes_read=2.52 * KB),
        ),
    ],
)
def test_wrk(name: str, expected: LoadResult) -> None:
    assert astuple(parse_wrk(captured(name))) == pytest.approx(astuple(expected))


def test_wrk_units_are_milliseconds() -> None:
    text = captured("wrk_ours_v2.txt").replace("7.86ms", "850.00us").replace("57.30ms", "1.02s")
    result = parse_wrk(text)
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1020.0)


def test_wrk_minutes_in_the_total() -> None:
    text = captured("wrk_ours_v2.txt").replace("requests in 2.07s,", "requests in 1.50m,")
    assert parse_wrk(text).seconds == pytest.approx(90.0)


@pytest.mark.parametrize("text", ["unable to connect to 127.0.0.1:5999 Connection refused", ""])
def test_wrk_without_a_summary_fails(text: str) -> None:
    with pytest.raises(LoadFailed):
        parse_wrk(text)


@pytest.mark.parametrize(
    ("name", "answers", "p50", "p99"),
    [
        # The bench's HEAD load: ab -i -k, 64 connections, 2 s, Accept: OCI manifest.
        ("ab_ours_manifest_head.txt", 57580, 2.0, 5.0),
        ("ab_ref_manifest_head.txt", 3770, 24.0, 145.0),
    ],
)
def test_ab_manifest_head(name: str, answers: int, p50: float, p99: float) -> None:
    result = parse_ab(captured(name))
    assert (result.requests, result.seconds, result.errors, result.non_2xx) == (answers, 2.0, 0, 0)
    assert result.rps == pytest.approx(answers / 2.0)
    assert (result.p50_ms, result.p99_ms) == (p50, p99)


def test_ab_counts_answers_outside_2xx() -> None:
    result = parse_ab(captured("ab_ours_404.txt"))
    assert (result.requests, result.non_2xx, result.errors) == (12790, 12790, 0)


@pytest.mark.parametrize("text", [captured("ab_refused.txt"), ""])
def test_ab_without_a_report_fails(text: str) -> None:
    with pytest.raises(LoadFailed):
        parse_ab(text)
