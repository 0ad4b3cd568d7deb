"""What the pages show, computed from API answers: manifest summaries, platforms, referrer groups, pull commands.

Pure functions over parsed JSON; no HTTP objects, so each is tested without a browser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "INDEX_TYPES",
    "Summary",
    "group_referrers",
    "human_size",
    "platform_of",
    "pull_commands",
    "summarize",
]

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
IMAGE_CONFIG_TYPES = frozenset(
    {
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
    }
)
SIGNATURE_HINTS = ("signature", "cosign", "notary", "sigstore")
SBOM_HINTS = ("sbom", "spdx", "cyclonedx")
ATTESTATION_HINTS = ("attestation", "in-toto", "intoto", "provenance", "vex")


@dataclass(frozen=True)
class Summary:
    """One manifest or index as a page shows it."""

    media_type: str
    is_index: bool
    size: int  # config + layers for an image; the children's manifests for an index
    config: Mapping[str, Any] | None
    layers: Sequence[Mapping[str, Any]]
    children: Sequence[Mapping[str, Any]]
    annotations: Mapping[str, str]
    artifact_type: str
    subject: Mapping[str, Any] | None
    platforms: Sequence[str] = field(default_factory=list)


def platform_of(value: Mapping[str, Any] | None) -> str:
    """``os/architecture[/variant]`` of a platform object or an image config, "" when it has none."""
    if not value:
        return ""
    parts = [str(value.get("os", "")), str(value.get("architecture", ""))]
    if value.get("variant"):
        parts.append(str(value["variant"]))
    return "/".join(parts) if all(parts[:2]) else ""


def summarize(body: bytes, media_type: str) -> Summary:
    """The summary of a manifest or index body served with ``media_type``."""
    document = json.loads(body)
    kind = str(document.get("mediaType") or media_type)
    is_index = kind in INDEX_TYPES or ("manifests" in document and "layers" not in document)
    children = list(document.get("manifests") or []) if is_index else []
    layers = [] if is_index else list(document.get("layers") or [])
    config = None if is_index else document.get("config")
    parts = children if is_index else [*layers, *([config] if config else [])]
    platforms = [p for p in (platform_of(c.get("platform")) for c in children) if p]
    return Summary(
        media_type=kind,
        is_index=is_index,
        size=sum(int(d.get("size") or 0) for d in parts),
        config=config,
        layers=layers,
        children=children,
        annotations=dict(document.get("annotations") or {}),
        artifact_type=_artifact_type(document, config),
        subject=document.get("subject"),
        platforms=platforms,
    )


def _artifact_type(document: Mapping[str, Any], config: Mapping[str, Any] | None) -> str:
    """``artifactType``, else a config media type other than an image's (how artifacts were typed before 1.1)."""
    if document.get("artifactType"):
        return str(document["artifactType"])
    config_type = str((config or {}).get("mediaType", ""))
    return "" if config_type in IMAGE_CONFIG_TYPES else config_type


def _kind(artifact_type: str) -> str:
    lowered = artifact_type.lower()
    for kind, hints in (
        ("Signatures", SIGNATURE_HINTS),
        ("SBOMs", SBOM_HINTS),
        ("Attestations", ATTESTATION_HINTS),
    ):
        if any(hint in lowered for hint in hints):
            return kind
    return "Other artifacts"


def group_referrers(index: Mapping[str, Any]) -> dict[str, dict[str, list[Mapping[str, Any]]]]:
    """A referrers index grouped by kind (signatures, SBOMs, attestations, other), then by artifactType."""
    groups: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for descriptor in index.get("manifests") or []:
        artifact_type = str(descriptor.get("artifactType") or "(none)")
        groups.setdefault(_kind(artifact_type), {}).setdefault(artifact_type, []).append(descriptor)
    return groups


def pull_commands(host: str, name: str, reference: str) -> list[tuple[str, str]]:
    """(tool, command line) pairs that pull ``name`` at ``reference`` from ``host``."""
    sep = "@" if ":" in reference else ":"
    ref = f"{host}/{name}{sep}{reference}"
    local = name.rsplit("/", 1)[-1]
    return [
        ("docker", f"docker pull {ref}"),
        ("podman", f"podman pull {ref}"),
        ("skopeo", f"skopeo copy --all docker://{ref} oci:{local}"),
        ("dist", f"dist copy --all {ref} oci:{local}"),
    ]


def human_size(size: int | None) -> str:
    """Bytes in binary units, one decimal (``1.5 MiB``)."""
    if size is None:
        return "\u2013"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
