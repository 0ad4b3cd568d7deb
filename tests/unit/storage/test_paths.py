"""The path mapper against distribution's on-disk layout, path by path."""

from __future__ import annotations

from typing import Any

import pytest

from registry_impl.storage import paths
from registry_impl.storage.driver.base import check_path

pytestmark = pytest.mark.unit

HEX = "abcd" + "0" * 60
SHA256 = f"sha256:{HEX}"
HEX512 = "ef" * 64
SHA512 = f"sha512:{HEX512}"
NAME = "library/ubuntu"
BLOBS = "/docker/registry/v2/blobs"
REPO = "/docker/registry/v2/repositories/library/ubuntu"

# (function name, arguments, the path distribution uses)
LAYOUT: list[tuple[str, tuple[Any, ...], str]] = [
    ("blobs_root", (), BLOBS),
    ("blob_path", (SHA256,), f"{BLOBS}/sha256/ab/{HEX}"),
    ("blob_data_path", (SHA256,), f"{BLOBS}/sha256/ab/{HEX}/data"),
    ("blob_data_path", (SHA512,), f"{BLOBS}/sha512/ef/{HEX512}/data"),
    ("repositories_root", (), "/docker/registry/v2/repositories"),
    ("repository_root", (NAME,), REPO),
    ("repository_root", ("alpine",), "/docker/registry/v2/repositories/alpine"),
    ("layers_root", (NAME,), f"{REPO}/_layers"),
    ("layer_link_path", (NAME, SHA256), f"{REPO}/_layers/sha256/{HEX}/link"),
    ("layer_link_path", (NAME, SHA512), f"{REPO}/_layers/sha512/{HEX512}/link"),
    ("manifest_revisions_root", (NAME,), f"{REPO}/_manifests/revisions"),
    ("manifest_revision_path", (NAME, SHA256), f"{REPO}/_manifests/revisions/sha256/{HEX}"),
    ("manifest_revision_link_path", (NAME, SHA256), f"{REPO}/_manifests/revisions/sha256/{HEX}/link"),
    ("tags_root", (NAME,), f"{REPO}/_manifests/tags"),
    ("tag_root", (NAME, "v1.0"), f"{REPO}/_manifests/tags/v1.0"),
    ("tag_current_link_path", (NAME, "v1.0"), f"{REPO}/_manifests/tags/v1.0/current/link"),
    ("tag_index_root", (NAME, "v1.0"), f"{REPO}/_manifests/tags/v1.0/index"),
    ("tag_index_entry_path", (NAME, "v1.0", SHA256), f"{REPO}/_manifests/tags/v1.0/index/sha256/{HEX}"),
    ("tag_index_link_path", (NAME, "v1.0", SHA256), f"{REPO}/_manifests/tags/v1.0/index/sha256/{HEX}/link"),
    ("uploads_root", (NAME,), f"{REPO}/_uploads"),
    ("upload_root", (NAME, "u-1"), f"{REPO}/_uploads/u-1"),
    ("upload_data_path", (NAME, "u-1"), f"{REPO}/_uploads/u-1/data"),
    ("upload_started_at_path", (NAME, "u-1"), f"{REPO}/_uploads/u-1/startedat"),
    ("upload_hashstates_root", (NAME, "u-1", "sha256"), f"{REPO}/_uploads/u-1/hashstates/sha256"),
    (
        "upload_hashstate_path",
        (NAME, "u-1", "sha256", 1048576),
        f"{REPO}/_uploads/u-1/hashstates/sha256/1048576",
    ),
    ("referrers_root", (NAME, SHA256), f"{REPO}/_referrers/sha256/{HEX}"),
    ("referrer_link_path", (NAME, SHA256, SHA512), f"{REPO}/_referrers/sha256/{HEX}/sha512/{HEX512}/link"),
    # our claims: outside repositories/, the kind a "_" component no repository name can have
    ("claim_path", ("uploads", NAME, "u-1"), "/docker/registry/v2/_claims/library/ubuntu/_uploads/u-1"),
    ("blob_claim_path", (SHA256,), f"/docker/registry/v2/_claims/_blobs/sha256/{HEX}"),
    ("gc_claim_path", (), "/docker/registry/v2/_claims/_gc"),
    ("outbox_root", ("ci-1a2b3c4d",), "/docker/registry/v2/_events/ci-1a2b3c4d"),
    ("outbox_claim_path", ("ci-1a2b3c4d",), "/docker/registry/v2/_claims/_events/ci-1a2b3c4d"),
    ("claim_path", ("tags", NAME, "v1.0"), "/docker/registry/v2/_claims/library/ubuntu/_tags/v1.0"),
    (
        "claim_path",
        ("manifests", NAME, SHA256),
        f"/docker/registry/v2/_claims/library/ubuntu/_manifests/sha256/{HEX}",
    ),
]
DIGEST_ARGS = {  # functions taking digests, with a digest placeholder to replace
    "blob_path": (None,),
    "blob_data_path": (None,),
    "layer_link_path": (NAME, None),
    "manifest_revision_path": (NAME, None),
    "manifest_revision_link_path": (NAME, None),
    "tag_index_entry_path": (NAME, "t", None),
    "tag_index_link_path": (NAME, "t", None),
    "referrers_root": (NAME, None),
    "referrer_link_path": (NAME, SHA256, None),
    "claim_path": ("manifests", NAME, None),
    "blob_claim_path": (None,),
}


@pytest.mark.parametrize(("function", "args", "expected"), LAYOUT, ids=[f"{f}-{e}" for f, _, e in LAYOUT])
def test_layout(function: str, args: tuple[Any, ...], expected: str) -> None:
    assert getattr(paths, function)(*args) == expected
    check_path(expected)  # every mapped path is a valid driver path


def test_every_function_is_checked() -> None:
    assert {function for function, _, _ in LAYOUT} == set(paths.__all__) - {"ROOT"}
    takes_digest = {f for f, args, _ in LAYOUT if any(a in (SHA256, SHA512) for a in args)}
    assert takes_digest == set(DIGEST_ARGS)


def test_root_is_distributions() -> None:
    assert paths.ROOT == "/docker/registry/v2"


@pytest.mark.parametrize("bad", ["sha256", "", ":abc", "sha256:", "abc" + "0" * 64])
@pytest.mark.parametrize("function", sorted(DIGEST_ARGS))
def test_malformed_digest_rejected(function: str, bad: str) -> None:
    args = tuple(bad if arg is None else arg for arg in DIGEST_ARGS[function])
    with pytest.raises(ValueError, match="not a digest"):
        getattr(paths, function)(*args)


def test_algorithm_separators_become_directories() -> None:
    # distribution's blobAlgorithmReplacer: "+", "." and ";" in the algorithm are directory separators
    assert (
        paths.layer_link_path("r", "tarsum+sha256:ab")
        == f"{paths.ROOT}/repositories/r/_layers/tarsum/sha256/ab/link"
    )
