"""Unit tests for registry_impl.references: repository names, tags and manifest references (server errors)."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from registry_impl.digests import parse_digest
from registry_impl.errors import DigestInvalid, NameInvalid, TagInvalid
from registry_impl.references import (
    NAME_COMPONENT_PATTERN,
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    TAG_PATTERN,
    parse_reference,
    validate_name,
    validate_tag,
)

DIGEST = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
# Built from the grammar's parts: hypothesis' from_regex is slow on the nested name pattern.
runs = st.text(alphabet=ALNUM, min_size=1, max_size=8)
separators = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def components(draw: st.DrawFn) -> str:
    parts = [draw(runs)]
    for run in draw(st.lists(runs, max_size=3)):
        parts += [draw(separators), run]
    return "".join(parts)


names = st.lists(components(), min_size=1, max_size=6).map("/".join)
tags = st.from_regex(TAG_PATTERN, fullmatch=True)

# --- names ---------------------------------------------------------------------------------------

VALID_NAMES = [
    "a",
    "0",
    "library/ubuntu",
    "a/b/c/d",
    "foo.bar",
    "foo_bar",
    "foo__bar",
    "foo-bar",
    "foo---bar",
    "a.b-c_d__e/f",
    "x" * NAME_MAX_LENGTH,
    "a/" * 127 + "a",
]

INVALID_NAMES = [
    "",
    "Foo",
    "foo/Bar",
    "foo/",
    "/foo",
    "foo//bar",
    "foo..bar",
    "foo/../bar",
    "..",
    "foo___bar",
    "foo.-bar",
    "foo-.bar",
    "foo._bar",
    "-foo",
    "foo-",
    "_foo",
    "foo_",
    ".foo",
    "foo.",
    "foo bar",
    "foo:bar",
    "foo@bar",
    "foo\n",
    "föö",
    "x" * (NAME_MAX_LENGTH + 1),
    "a/" * 128 + "a",
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_names_are_accepted(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(NameInvalid):
        validate_name(name)


def test_name_length_limit_is_255_including_slashes() -> None:
    assert len(VALID_NAMES[-1]) == 255
    validate_name("ab/" * 84 + "abc")  # 255
    with pytest.raises(NameInvalid, match="255") as caught:
        validate_name("ab/" * 84 + "abcd")  # 256
    assert caught.value.detail == {"name": "ab/" * 84 + "abcd", "length": 256}


@given(names)
def test_generated_names_are_accepted(name: str) -> None:
    assert re.fullmatch(NAME_PATTERN, name)
    assert validate_name(name) == name


@given(components())
def test_generated_components_match_the_component_pattern(component: str) -> None:
    assert re.fullmatch(NAME_COMPONENT_PATTERN, component)


@given(names, st.data())
def test_names_with_an_uppercase_letter_are_rejected(name: str, data: st.DataObject) -> None:
    letters = [i for i, char in enumerate(name) if char.isalpha()]
    assume(letters)
    index = data.draw(st.sampled_from(letters))
    with pytest.raises(NameInvalid):
        validate_name(name[:index] + name[index].upper() + name[index + 1 :])


@given(st.lists(components(), min_size=2, max_size=4), st.sampled_from(["..", "//", "___", ".-", "-.", ":"]))
def test_names_with_a_bad_separator_are_rejected(parts: list[str], separator: str) -> None:
    with pytest.raises(NameInvalid):
        validate_name(separator.join(parts))


@given(names, st.sampled_from(["/", "-", ".", "_"]), st.booleans())
def test_names_with_a_dangling_separator_are_rejected(name: str, separator: str, leading: bool) -> None:
    with pytest.raises(NameInvalid):
        validate_name(separator + name if leading else name + separator)


@given(st.text())
def test_arbitrary_text_is_accepted_only_if_it_matches_the_grammar(text: str) -> None:
    expected = bool(re.fullmatch(NAME_PATTERN, text)) and len(text) <= NAME_MAX_LENGTH
    try:
        validate_name(text)
    except NameInvalid:
        assert not expected
    else:
        assert expected


# --- tags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["latest", "v1.0.0", "_", "A", "0", "1.2-rc_3", "__", "a" * 128])
def test_valid_tags_are_accepted(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize(
    "tag", ["", ".hidden", "-x", "a:b", "a/b", "a@b", "a+b", "a b", "ä", "latest\n", "a" * 129]
)
def test_invalid_tags_are_rejected(tag: str) -> None:
    with pytest.raises(TagInvalid):
        validate_tag(tag)


@given(tags)
def test_generated_tags_are_accepted(tag: str) -> None:
    assert validate_tag(tag) == tag


@given(tags, st.sampled_from([":", "/", "@", "+", " ", "é"]), st.data())
def test_tags_with_a_foreign_character_are_rejected(tag: str, char: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(tag)))
    with pytest.raises(TagInvalid):
        validate_tag(tag[:index] + char + tag[index:])


@given(tags, st.text(alphabet="a", min_size=1))
def test_tags_longer_than_128_are_rejected(tag: str, padding: str) -> None:
    long_tag = tag + "a" * (129 - len(tag)) + padding
    with pytest.raises(TagInvalid):
        validate_tag(long_tag)


# --- references ----------------------------------------------------------------------------------


def test_reference_with_a_colon_is_a_digest() -> None:
    assert parse_reference(DIGEST) == parse_digest(DIGEST)


def test_reference_without_a_colon_is_a_tag() -> None:
    assert parse_reference("Latest") == "Latest"


@pytest.mark.parametrize(("reference", "error"), [("sha256:abc", DigestInvalid), (".bad", TagInvalid)])
def test_bad_references_raise_the_specific_error(reference: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_reference(reference)


@given(tags)
def test_generated_tag_references_are_tags(tag: str) -> None:
    assert parse_reference(tag) == tag
