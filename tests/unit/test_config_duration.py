"""Tests of Go duration parsing and formatting in registry_impl.config."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_impl.config import format_duration, parse_duration

pytestmark = pytest.mark.unit

# Go's int64 nanoseconds bound the durations both sides can represent.
MAX = timedelta(microseconds=(2**63 - 1) // 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("168h", timedelta(hours=168)),
        ("10m", timedelta(minutes=10)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("500ms", timedelta(milliseconds=500)),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
        ("+5s", timedelta(seconds=5)),
        ("-1.5h", -timedelta(hours=1, minutes=30)),
        (".5s", timedelta(milliseconds=500)),
        ("1.s", timedelta(seconds=1)),
        ("2h45m10.25s", timedelta(hours=2, minutes=45, seconds=10.25)),
        ("1us", timedelta(microseconds=1)),
        ("1\u00b5s", timedelta(microseconds=1)),
        ("1\u03bcs", timedelta(microseconds=1)),
        ("1500ns", timedelta(microseconds=1)),
        ("1h1h", timedelta(hours=2)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "-", "+", ".", "s", "10", "1x", "1.2.3s", "1 h", "1h 30m", "3000000h"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(hours=168), "168h0m0s"),
        (timedelta(minutes=1), "1m0s"),
        (timedelta(seconds=1.5), "1.5s"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(microseconds=1500), "1.5ms"),
        (timedelta(microseconds=7), "7\u00b5s"),
        (-timedelta(minutes=2), "-2m0s"),
        (timedelta(hours=1, microseconds=1), "1h0m0.000001s"),
    ],
)
def test_format_like_go(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@given(st.timedeltas(min_value=-MAX, max_value=MAX))
def test_round_trip(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.sampled_from(["h", "m", "s", "ms", "us"])),
        min_size=1,
        max_size=5,
    )
)
def test_sum_of_components(parts: list[tuple[int, str]]) -> None:
    units = {"h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000, "ms": 1_000, "us": 1}
    text = "".join(f"{n}{unit}" for n, unit in parts)
    assert parse_duration(text) == timedelta(microseconds=sum(n * units[unit] for n, unit in parts))
