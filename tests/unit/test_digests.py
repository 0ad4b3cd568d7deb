"""Unit tests for registry_impl.digests: the digest grammar, hashing and verification."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_impl.digests import (
    DIGEST_PATTERN,
    SUPPORTED_ALGORITHMS,
    Digest,
    DigestVerifier,
    digest_of,
    new_hasher,
    parse_digest,
)
from registry_impl.errors import DigestInvalid, RegistryError

EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
EMPTY_SHA512 = (
    "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)
HEX_LENGTHS = {"sha256": 64, "sha512": 128}

algorithms = st.sampled_from(SUPPORTED_ALGORITHMS)


@st.composite
def valid_digests(draw: st.DrawFn) -> str:
    algorithm = draw(algorithms)
    length = HEX_LENGTHS[algorithm]
    return f"{algorithm}:{draw(st.text(alphabet='0123456789abcdef', min_size=length, max_size=length))}"


# --- known values and the spec's examples --------------------------------------------------------


def test_digest_of_empty_content() -> None:
    assert digest_of(b"") == EMPTY_SHA256
    assert digest_of(b"", "sha512") == EMPTY_SHA512


@pytest.mark.parametrize(
    "value",
    [
        EMPTY_SHA256,
        EMPTY_SHA512,
        # distribution-spec, "Content Digests" example
        "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
    ],
)
def test_spec_examples_parse(value: str) -> None:
    digest = parse_digest(value)
    assert str(digest) == value
    assert digest.encoded == digest.hex == value.partition(":")[2]


def test_digest_is_a_frozen_hashable_value() -> None:
    digest = parse_digest(EMPTY_SHA256)
    assert digest == Digest("sha256", EMPTY_SHA256[7:])
    assert {digest: 1}[Digest("sha256", EMPTY_SHA256[7:])] == 1
    with pytest.raises(AttributeError):
        digest.hex = "0"  # type: ignore[misc]


# --- bad digests ---------------------------------------------------------------------------------

BAD_DIGESTS = [
    "",
    "sha256",
    "sha256:",
    ":" + "a" * 64,
    "sha256:abc",
    "sha256:" + "a" * 63,
    "sha256:" + "a" * 65,
    "sha256:" + "A" * 64,
    "sha256:" + "g" * 64,
    "sha512:" + "a" * 64,
    "SHA256:" + "a" * 64,
    "sha256:" + "a" * 63 + "\n",
    " sha256:" + "a" * 64,
    "sha256:" + "a" * 64 + " ",
    "sha256 :" + "a" * 64,
    "sha256:" + "a" * 32 + ":" + "a" * 31,
    "sha256-:" + "a" * 64,
    "md5:d41d8cd98f00b204e9800998ecf8427e",
    "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
    "a" * 64,
]


@pytest.mark.parametrize("value", BAD_DIGESTS)
def test_bad_digests_are_rejected(value: str) -> None:
    with pytest.raises(DigestInvalid):
        parse_digest(value)


@pytest.mark.parametrize("value", ["md5:d41d8cd98f00b204e9800998ecf8427e", "blake3:" + "a" * 64])
def test_unknown_well_formed_algorithm_is_unsupported(value: str) -> None:
    with pytest.raises(DigestInvalid, match="unsupported") as caught:
        parse_digest(value)
    assert caught.value.detail == {"digest": value}


def test_digest_invalid_is_a_registry_error() -> None:
    with pytest.raises(RegistryError):
        parse_digest("nope")


# --- generated -----------------------------------------------------------------------------------


@given(st.binary(), algorithms)
def test_digest_of_round_trips(data: bytes, algorithm: str) -> None:
    text = digest_of(data, algorithm)
    digest = parse_digest(text)
    assert str(digest) == text
    assert digest.algorithm == algorithm
    assert digest.hex == hashlib.new(algorithm, data).hexdigest()


@given(valid_digests())
def test_generated_valid_digests_are_accepted(value: str) -> None:
    assert str(parse_digest(value)) == value
    assert re.fullmatch(DIGEST_PATTERN, value)


@given(valid_digests(), st.data())
def test_mutated_encoded_part_is_rejected(value: str, data: st.DataObject) -> None:
    colon = value.index(":")
    index = data.draw(st.integers(colon + 1, len(value) - 1))
    bad = data.draw(st.characters(codec="utf-8").filter(lambda c: c not in "0123456789abcdef"))
    with pytest.raises(DigestInvalid):
        parse_digest(value[:index] + bad + value[index + 1 :])


@given(valid_digests(), st.sampled_from(["truncate", "extend", "upper"]))
def test_wrong_length_or_case_is_rejected(value: str, how: str) -> None:
    mutated = {"truncate": value[:-1], "extend": value + "0", "upper": value.upper()}[how]
    with pytest.raises(DigestInvalid):
        parse_digest(mutated)


@given(st.text())
def test_arbitrary_text_parses_or_raises_digest_invalid(value: str) -> None:
    try:
        digest = parse_digest(value)
    except DigestInvalid:
        return
    assert str(digest) == value


@given(st.from_regex(DIGEST_PATTERN, fullmatch=True))
def test_anything_matching_the_grammar_parses_or_is_unsupported_or_wrong_length(value: str) -> None:
    try:
        parse_digest(value)
    except DigestInvalid as error:
        assert "unsupported" in error.message or "encoded part" in error.message


# --- hashing and verification --------------------------------------------------------------------


def test_new_hasher_rejects_unsupported_algorithms() -> None:
    with pytest.raises(DigestInvalid, match="unsupported"):
        new_hasher("md5")


@given(st.lists(st.binary()), algorithms)
def test_verifier_accepts_content_fed_in_pieces(chunks: list[bytes], algorithm: str) -> None:
    content = b"".join(chunks)
    verifier = DigestVerifier(digest_of(content, algorithm))
    for chunk in chunks:
        verifier.update(chunk)
    assert verifier.verified()
    assert verifier.size == len(content)
    assert str(verifier.actual) == digest_of(content, algorithm)


@given(st.binary(), st.binary(min_size=1))
def test_verifier_rejects_other_content(content: bytes, extra: bytes) -> None:
    verifier = DigestVerifier(parse_digest(digest_of(content)))
    verifier.update(content + extra)
    assert not verifier.verified()


def test_verifier_rejects_a_bad_expected_digest() -> None:
    with pytest.raises(DigestInvalid):
        DigestVerifier("sha256:abc")
