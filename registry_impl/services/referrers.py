"""Referrers: the descriptors of the manifests whose subject is a digest (built in a worker thread: it
parses every referrer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry_impl.digests import parse_digest
from registry_impl.errors import ManifestInvalid, ManifestUnknown
from registry_impl.manifests import artifact_type_of, parse_manifest
from registry_impl.services.state import State
from registry_impl.storage.registry import Repository

__all__ = ["Referrers", "list_referrers"]


@dataclass(frozen=True)
class Referrers:
    """The descriptors of an OCI index; ``filtered`` when only those of one artifact type were kept."""

    manifests: list[dict[str, Any]]
    filtered: bool


def _descriptor(repo: Repository, digest: str) -> dict[str, Any] | None:
    try:
        manifest = repo.manifests.get(digest)
        parsed = parse_manifest(manifest.content, manifest.media_type, bounded=False)
    except (ManifestUnknown, ManifestInvalid):
        return None
    out: dict[str, Any] = {"mediaType": parsed.media_type, "digest": digest, "size": len(manifest.content)}
    artifact_type = artifact_type_of(parsed)
    if artifact_type:
        out["artifactType"] = artifact_type
    if parsed.annotations:
        out["annotations"] = parsed.annotations
    return out


def _referrers(repo: Repository, subject: str) -> list[dict[str, Any]]:
    # A registry that supports the API must not answer 404 (distribution-spec: a client reads 404 as "no
    # referrers API" and falls back to tag schemes): an unknown subject, in a repository with content or
    # in one with none yet, is an empty index.
    return [d for d in (_descriptor(repo, ref) for ref in repo.referrers.list(subject)) if d is not None]


async def list_referrers(state: State, name: str, digest: str, artifact_type: str | None) -> Referrers:
    """The referrers of ``digest`` in repository ``name``, only those of ``artifact_type`` when given."""
    subject = str(parse_digest(digest))
    repo = state.registry.repository(name)
    manifests = await state.offload.slow(_referrers, repo, subject)  # parses every referrer
    if not artifact_type:
        return Referrers(manifests, filtered=False)
    return Referrers([d for d in manifests if d.get("artifactType") == artifact_type], filtered=True)
