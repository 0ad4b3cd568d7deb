"""Image references, digests and hosts as the client parses them (the descriptor's grammars)."""

from __future__ import annotations

import pytest
from registry_client.errors import ReferenceInvalid
from registry_client.references import (
    ImageReference,
    check_digest,
    is_loopback,
    parse_reference,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5000/a/b:v1", ImageReference("127.0.0.1:5000", "a/b", "v1")),
        (f"localhost/a@{DIGEST}", ImageReference("localhost", "a", None, DIGEST)),
        (f"r.example.com/a/b:v1@{DIGEST}", ImageReference("r.example.com", "a/b", "v1", DIGEST)),
        ("alpine", ImageReference("docker.io", "library/alpine")),
        ("user/app:1.0", ImageReference("docker.io", "user/app", "1.0")),
        ("index.docker.io/library/alpine", ImageReference("docker.io", "library/alpine")),
        ("[::1]:5000/x", ImageReference("[::1]:5000", "x")),
    ],
)
def test_parse(text: str, expected: ImageReference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    ["127.0.0.1:5000/A/b", "host:5000/a:-bad", "h.com/a@sha256:abc", "h.com/a@md5:" + "0" * 32, "h.com/"],
)
def test_invalid(text: str) -> None:
    with pytest.raises(ReferenceInvalid):
        parse_reference(text)


def test_reference_prefers_the_digest_and_defaults_to_latest() -> None:
    assert ImageReference("h", "a", "v1", DIGEST).reference == DIGEST
    assert ImageReference("h", "a").reference == "latest"
    assert str(ImageReference("h:1", "a", "v1", DIGEST)) == f"h:1/a:v1@{DIGEST}"


def test_require_host() -> None:
    with pytest.raises(ReferenceInvalid, match="no registry host"):
        parse_reference("a/b", require_host=True)


def test_check_digest() -> None:
    assert check_digest(DIGEST) == DIGEST
    assert check_digest("sha512:" + "0" * 128)
    for bad in ("sha256:" + "AB" * 32, "sha256:abc", "nope"):
        with pytest.raises(ReferenceInvalid):
            check_digest(bad)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:5000", True),
        ("127.1.2.3", True),
        ("localhost:80", True),
        ("[::1]:5000", True),
        ("registry.example.com", False),
        ("10.0.0.1:5000", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
