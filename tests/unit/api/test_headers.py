"""Unit tests for registry_impl.api.headers: Range, Content-Range, pagination, ETag."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from registry_impl.api.headers import (
    RangeNotSatisfiable,
    etag_matches,
    format_content_range,
    format_etag,
    format_range,
    parse_content_range,
    parse_pagination,
    parse_range,
)
from registry_impl.errors import PaginationNumberInvalid, RangeInvalid

DIGEST = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"
OTHER = "sha256:" + "0" * 64

# --- Range (blob GET) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-9", (0, 9)),
        ("bytes=0-0", (0, 0)),
        ("BYTES=5-5", (5, 5)),
        (" bytes = 1 - 2 ", (1, 2)),
        ("bytes=90-", (90, 99)),
        ("bytes=50-1000", (50, 99)),
        ("bytes=99-", (99, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-100", (0, 99)),
        ("bytes=-200", (0, 99)),
        ("bytes=0-1,3-4", None),
        ("items=0-1", None),
        ("bytes=", None),
        ("bytes=-", None),
        ("bytes=a-b", None),
        ("0-9", None),
    ],
)
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=100-200", 100), ("bytes=-0", 100), ("bytes=5-3", 100)]
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.size == size
    assert caught.value.content_range == f"bytes */{size}"
    assert isinstance(caught.value, RangeInvalid)


@pytest.mark.parametrize("header", ["bytes=0-", "bytes=0-0", "bytes=-1"])
def test_no_range_is_satisfiable_on_an_empty_blob(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 0)


@given(st.binary(min_size=1, max_size=64), st.data())
def test_ranges_select_what_python_slicing_selects(blob: bytes, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(blob) - 1))
    end = data.draw(st.none() | st.integers(start, 2 * len(blob)))
    header = f"bytes={start}-{'' if end is None else end}"
    result = parse_range(header, len(blob))
    assert result is not None
    first, last = result
    assert 0 <= first <= last < len(blob)
    assert blob[first : last + 1] == (blob[start:] if end is None else blob[start : end + 1])


@given(st.binary(min_size=1, max_size=64), st.integers(1, 200))
def test_suffix_ranges_select_the_tail(blob: bytes, length: int) -> None:
    result = parse_range(f"bytes=-{length}", len(blob))
    assert result is not None
    assert blob[result[0] : result[1] + 1] == blob[-length:]


@given(st.integers(0, 1000), st.integers(0, 1000))
def test_ranges_starting_past_the_end_are_unsatisfiable(size: int, start: int) -> None:
    assume(start >= size)
    with pytest.raises(RangeNotSatisfiable):
        parse_range(f"bytes={start}-", size)


@given(st.text(), st.integers(0, 1000))
def test_parse_range_never_fails_otherwise(header: str, size: int) -> None:
    try:
        result = parse_range(header, size)
    except RangeNotSatisfiable:
        return
    if result is not None:
        assert 0 <= result[0] <= result[1] < size


def test_format_content_range() -> None:
    assert format_content_range(0, 9, 100) == "bytes 0-9/100"


# --- Content-Range and Range (blob upload) -------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("0-99", (0, 99)),
        ("100-199", (100, 199)),
        ("0-0", (0, 0)),
        ("bytes 0-99/100", (0, 99)),
        ("bytes 0-99/*", (0, 99)),
        ("bytes=0-99", (0, 99)),
        (" 5-9 ", (5, 9)),
    ],
)
def test_parse_content_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_content_range(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "abc",
        "0-",
        "-5",
        "5-3",
        "bytes 0-99/50",
        "bytes 0-99/99",
        "bytes  0-99",
        "0-99/",
        "0 - 99",
        "bytes */100",
    ],
)
def test_malformed_content_ranges_are_rejected(header: str) -> None:
    with pytest.raises(RangeInvalid):
        parse_content_range(header)


content_range_bounds = st.integers(0, 10**12).flatmap(
    lambda start: st.tuples(st.just(start), st.integers(start, start + 10**9))
)


@given(
    content_range_bounds,
    st.sampled_from(["{s}-{e}", "bytes {s}-{e}/*", "bytes={s}-{e}", "bytes {s}-{e}/{t}"]),
)
def test_content_range_forms_round_trip(bounds: tuple[int, int], form: str) -> None:
    start, end = bounds
    assert parse_content_range(form.format(s=start, e=end, t=end + 1)) == (start, end)


@given(st.text())
def test_parse_content_range_raises_only_range_invalid(header: str) -> None:
    try:
        result = parse_content_range(header)
    except RangeInvalid:
        return
    assert result is None or 0 <= result[0] <= result[1]


@pytest.mark.parametrize(("size", "expected"), [(0, "0-0"), (1, "0-0"), (2, "0-1"), (10, "0-9")])
def test_format_range_matches_distribution(size: int, expected: str) -> None:
    assert format_range(size) == expected


def test_format_range_rejects_negative_sizes() -> None:
    with pytest.raises(ValueError):
        format_range(-1)


@given(st.integers(1, 10**12))
def test_format_range_is_read_back_as_the_received_bytes(size: int) -> None:
    assert parse_content_range(format_range(size)) == (0, size - 1)


# --- pagination ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "last", "expected"),
    [
        (None, None, (None, None)),
        ("", "", (None, None)),
        ("10", "a", (10, "a")),
        ("0", None, (0, None)),
        ("100", None, (100, None)),
        ("101", None, (100, None)),
        ("999999999999999999999", "x", (100, "x")),
        ("007", None, (7, None)),
    ],
)
def test_parse_pagination(n: str | None, last: str | None, expected: tuple[int | None, str | None]) -> None:
    assert parse_pagination(n, last, 100) == expected


@pytest.mark.parametrize("n", ["-1", "abc", "1.5", " 1", "1 ", "+1", "1_0", "1e3", "٣", "0x10"])
def test_bad_pagination_numbers_are_rejected(n: str) -> None:
    with pytest.raises(PaginationNumberInvalid):
        parse_pagination(n, None, 100)


@given(st.integers(0, 10**6), st.integers(1, 10**4))
def test_pagination_clamps_to_the_maximum(n: int, max_n: int) -> None:
    assert parse_pagination(str(n), None, max_n) == (min(n, max_n), None)


@given(st.integers(max_value=-1))
def test_negative_pagination_numbers_are_rejected(n: int) -> None:
    with pytest.raises(PaginationNumberInvalid):
        parse_pagination(str(n), None, 100)


# --- ETag ----------------------------------------------------------------------------------------


def test_format_etag_quotes_the_digest() -> None:
    assert format_etag(DIGEST) == f'"{DIGEST}"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        (f'"{DIGEST}"', True),
        (DIGEST, True),
        (f'W/"{DIGEST}"', True),
        ("*", True),
        (f' "{OTHER}" , "{DIGEST}" ', True),
        (f'"{OTHER}", W/"{DIGEST}"', True),
        (f'"{OTHER}"', False),
        (f'"{DIGEST[:-1]}"', False),
        (f'"{DIGEST}', False),
    ],
)
def test_etag_matches(header: str | None, expected: bool) -> None:
    assert etag_matches(header, DIGEST) is expected


@given(st.sampled_from([DIGEST, OTHER]))
def test_format_etag_round_trips(digest: str) -> None:
    assert etag_matches(format_etag(digest), digest)
    assert etag_matches(format_etag(digest), f'"{digest}"')
