"""GET /v2/<name>/referrers/<digest>: an OCI index of the manifests whose subject is the digest (built in a
worker thread: it parses every referrer)."""

from __future__ import annotations

import json
from typing import Any

from registry_spec import mediatypes as mt
from starlette.responses import Response

from registry_impl.api.context import current
from registry_impl.digests import parse_digest
from registry_impl.errors import ManifestInvalid, ManifestUnknown
from registry_impl.manifests import artifact_type_of, parse_manifest
from registry_impl.storage.registry import Repository


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
    # An unknown repository is 404 NAME_UNKNOWN (clients such as oras-go tell it apart from a
    # registry without the API); an unknown subject in a known repository is an empty index.
    repo.require()
    return [d for d in (_descriptor(repo, ref) for ref in repo.referrers.list(subject)) if d is not None]


async def list_referrers(name: str, digest: str) -> Response:
    ctx = current()
    subject = str(parse_digest(digest))
    repo = ctx.state.registry.repository(name)
    wanted = ctx.request.query_params.get("artifactType")
    manifests = await ctx.state.offload.slow(_referrers, repo, subject)  # parses every referrer
    headers = {}
    if wanted:
        manifests = [d for d in manifests if d.get("artifactType") == wanted]
        headers["OCI-Filters-Applied"] = "artifactType"
    body = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests}
    return Response(json.dumps(body, separators=(",", ":")), media_type=mt.OCI_INDEX, headers=headers)
