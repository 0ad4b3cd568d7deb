"""Image references as the protocol core parses them (docker's host rules, the descriptor's grammars)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from registry_spec.protocol.errors import InvalidDigest, InvalidHost, InvalidName, InvalidTag
from registry_spec.protocol.references import TAG_PATTERN, ImageReference, parse_image_reference

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

D = DIGEST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu", ("docker.io", "library/ubuntu", None, None)),
        ("ubuntu:22.04", ("docker.io", "library/ubuntu", "22.04", None)),
        ("user/repo", ("docker.io", "user/repo", None, None)),
        ("docker.io/ubuntu", ("docker.io", "library/ubuntu", None, None)),
        ("index.docker.io/ubuntu", ("docker.io", "library/ubuntu", None, None)),
        ("docker.io/library/ubuntu:latest", ("docker.io", "library/ubuntu", "latest", None)),
        ("myhost/foo", ("docker.io", "myhost/foo", None, None)),
        ("localhost/foo", ("localhost", "foo", None, None)),
        ("localhost:5000/foo/bar:v1", ("localhost:5000", "foo/bar", "v1", None)),
        ("registry.example.com/a/b@" + DIGEST, ("registry.example.com", "a/b", None, D)),
        ("localhost:5000/foo:tag@" + DIGEST, ("localhost:5000", "foo", "tag", D)),
        ("127.0.0.1:5000/foo", ("127.0.0.1:5000", "foo", None, None)),
        ("[::1]:5000/foo", ("[::1]:5000", "foo", None, None)),
        ("Example/foo", ("Example", "foo", None, None)),
        ("ghcr.io/owner/image", ("ghcr.io", "owner/image", None, None)),
        ("quay.io/single", ("quay.io", "single", None, None)),
    ],
)
def test_image_references(text: str, expected: tuple[str, str, str | None, str | None]) -> None:
    assert parse_image_reference(text) == ImageReference(*expected)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", InvalidName),
        ("UPPER", InvalidName),
        ("foo/UPPER", InvalidName),
        ("-bad.example.com/x", InvalidHost),
        ("host.com:port/x", InvalidHost),
        ("localhost:5000/", InvalidName),
        ("foo:", InvalidTag),
        ("foo:.bad", InvalidTag),
        ("foo@sha256:abc", InvalidDigest),
        ("foo@", InvalidDigest),
    ],
)
def test_bad_image_references(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_image_reference(text)


hosts = st.one_of(
    st.just("localhost"),
    st.from_regex(r"[a-z0-9]{1,10}\.[a-z]{2,5}", fullmatch=True),
    st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,5})?:[0-9]{1,5}", fullmatch=True),
)


@given(hosts, names, st.none() | tags, st.none() | st.just(D))
def test_image_reference_round_trips(host: str, name: str, tag: str | None, digest: str | None) -> None:
    reference = ImageReference(host, name, tag, digest)
    assert parse_image_reference(str(reference)) == reference


@given(names.filter(lambda name: "/" not in name), st.none() | tags)
def test_single_component_docker_hub_names_get_library(name: str, tag: str | None) -> None:
    text = name if tag is None else f"{name}:{tag}"
    assert parse_image_reference(text) == ImageReference("docker.io", f"library/{name}", tag, None)
