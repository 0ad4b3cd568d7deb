"""What the UI's pages compute from API answers: summaries, platforms, referrer groups, pull commands, sizes,
the catalog bound a name prefix starts from, and the configuration switch."""

from __future__ import annotations

import json

import pytest

from registry_impl.config import parse_config
from registry_impl.ui import content
from registry_impl.ui.pages import _bound_before, _not_past
from registry_impl.ui.upstream import credential_of

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def test_an_image_sums_config_and_layers() -> None:
    body = json.dumps(
        {
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:c",
                "size": 10,
            },
            "layers": [{"digest": "sha256:a", "size": 100}, {"digest": "sha256:b", "size": 1000}],
            "annotations": {"k": "v"},
            "subject": {"digest": "sha256:s"},
        }
    ).encode()
    summary = content.summarize(body, OCI_MANIFEST)
    assert not summary.is_index and summary.size == 1110 and len(summary.layers) == 2
    assert summary.annotations == {"k": "v"} and summary.subject == {"digest": "sha256:s"}
    assert summary.artifact_type == ""  # an image, not an artifact
    artifact = json.loads(body) | {"config": {"mediaType": "application/vnd.example.sbom+json", "size": 2}}
    assert content.summarize(json.dumps(artifact).encode(), OCI_MANIFEST).artifact_type.endswith("sbom+json")


def test_an_index_lists_platforms_from_the_served_media_type() -> None:
    body = json.dumps(
        {
            "manifests": [
                {
                    "digest": "sha256:a",
                    "size": 5,
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
                {"digest": "sha256:b", "size": 7, "platform": {"os": "linux", "architecture": "amd64"}},
                {"digest": "sha256:c", "size": 1},
            ]
        }
    ).encode()
    summary = content.summarize(body, OCI_INDEX)
    assert summary.is_index and summary.size == 13
    assert summary.platforms == ["linux/arm64/v8", "linux/amd64"]


def test_referrers_group_by_kind_then_artifact_type() -> None:
    groups = content.group_referrers(
        {
            "manifests": [
                {"digest": "sha256:1", "artifactType": "application/vnd.dev.cosign.simplesigning.v1+json"},
                {"digest": "sha256:2", "artifactType": "application/spdx+json"},
                {"digest": "sha256:3", "artifactType": "application/vnd.in-toto+json"},
                {"digest": "sha256:4", "artifactType": "application/example"},
                {"digest": "sha256:5"},
            ]
        }
    )
    assert set(groups) == {"Signatures", "SBOMs", "Attestations", "Other artifacts"}
    assert set(groups["Other artifacts"]) == {"application/example", "(none)"}


def test_pull_commands_by_tag_and_by_digest() -> None:
    by_tag = dict(content.pull_commands("reg:5000", "a/b", "v1"))
    assert by_tag["docker"] == "docker pull reg:5000/a/b:v1"
    assert by_tag["skopeo"] == "skopeo copy --all docker://reg:5000/a/b:v1 oci:b"
    assert dict(content.pull_commands("reg", "a", "sha256:ab"))["podman"] == "podman pull reg/a@sha256:ab"


@pytest.mark.parametrize(
    ("size", "shown"),
    [(None, "\u2013"), (0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 << 30, "5.0 GiB")],
)
def test_human_sizes(size: int | None, shown: str) -> None:
    assert content.human_size(size) == shown


@pytest.mark.parametrize(
    ("prefix", "bound"), [("", ""), ("alice", "alicd~"), ("apps/", "appr~"), ("apps/w", "apps/v~")]
)
def test_a_prefix_starts_the_catalog_just_before_its_names(prefix: str, bound: str) -> None:
    assert _bound_before(prefix) == bound


def test_the_walk_is_past_a_prefix_once_a_later_name_shows() -> None:
    assert _not_past("team42/app1", "team42/") and _not_past("team41/x", "team42/")
    assert not _not_past("team43/app", "team42/")


def test_credentials_come_from_basic_only() -> None:
    assert credential_of("Basic YWxpY2U6cHc=").username == "alice"  # type: ignore[union-attr]
    assert credential_of("Bearer x") is None and credential_of("Basic !!") is None


def test_the_ui_is_on_unless_switched_off() -> None:
    minimal = "version: 0.1\nstorage: {inmemory: {}}\n"
    assert parse_config(minimal, {}).ui.enabled
    assert not parse_config(minimal + "ui: {enabled: false}\n", {}).ui.enabled
    assert not parse_config(minimal, {"REGISTRY_UI_ENABLED": "false"}).ui.enabled
