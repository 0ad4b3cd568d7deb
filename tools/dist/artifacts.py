"""``dist referrers``, ``dist attach`` and ``dist tag``: what points at an image, and names for it, without moving blobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from registry_client import Descriptor, Manifest
from registry_client.references import ImageReference, parse_reference
from registry_client.referrers import referrer_descriptor
from registry_spec import mediatypes as mt

from .context import Context
from .progress import human_size
from .stores import StoreError

__all__ = ["cmd_attach", "cmd_referrers", "cmd_tag"]

TITLE = "org.opencontainers.image.title"


def _ref(text: str) -> ImageReference:
    return parse_reference(text.removeprefix("docker://"))


def _listed(descriptor: Descriptor) -> dict[str, Any]:
    return {
        "digest": descriptor.digest,
        "mediaType": descriptor.media_type,
        "artifactType": descriptor.artifact_type,
        "size": descriptor.size,
        "annotations": descriptor.annotations,
    }


def cmd_referrers(ctx: Context) -> int:
    ref = _ref(ctx.args.reference)
    client = ctx.client(ref.host)
    digest = ref.digest or client.manifests.resolve(ref.repository, ref.reference).digest
    found = client.referrers.list(ref.repository, digest, ctx.args.artifact_type)
    listed = [_listed(d) for d in found]
    lines = [
        f"{d['digest']}  {d['artifactType'] or '-':<40} {human_size(d['size']):>10}"
        + (f"  {json.dumps(d['annotations'], sort_keys=True)}" if d["annotations"] else "")
        for d in listed
    ]
    ctx.emit(listed, "\n".join(lines) if lines else f"No referrers of {ref.repository_ref}@{digest}")
    return 0


def _annotations(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise StoreError(f"--annotation {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out


def cmd_attach(ctx: Context) -> int:
    """Push FILE as an artifact (OCI 1.1: artifactType, empty config, one layer) whose subject is IMAGE."""
    args = ctx.args
    ref = _ref(args.reference)
    client = ctx.client(ref.host)
    subject = client.manifests.resolve(ref.repository, ref.reference)
    path = Path(args.file)
    empty = client.blobs.upload(ref.repository, b"{}")
    layer_digest = client.blobs.upload_file(ref.repository, path)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": args.artifact_type,
        "config": {"mediaType": mt.OCI_EMPTY, "digest": empty, "size": 2},
        "layers": [
            {
                "mediaType": args.media_type,
                "digest": layer_digest,
                "size": path.stat().st_size,
                "annotations": {TITLE: path.name},
            }
        ],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
    }
    if annotations := _annotations(args.annotation):
        document["annotations"] = annotations
    manifest = Manifest.from_document(document, mt.OCI_MANIFEST)
    client.manifests.put(ref.repository, manifest.digest, manifest)
    fallback = not client.referrers.api_supported(ref.repository, subject.digest)
    if fallback:
        client.referrers.add_to_fallback(ref.repository, subject.digest, [referrer_descriptor(manifest)])
    ctx.emit(
        {"digest": manifest.digest, "subject": subject.digest, "fallbackTag": fallback},
        manifest.digest,
    )
    return 0


def cmd_tag(ctx: Context) -> int:
    """New tags for an image in its repository: one manifest PUT (tag parameters, else one PUT per tag)."""
    ref = _ref(ctx.args.reference)
    client = ctx.client(ref.host)
    tags = list(dict.fromkeys(ctx.args.tags))
    for tag in tags:
        parse_reference(f"{ref.repository_ref}:{tag}")  # the tag grammar, before anything is written
    manifest = client.manifests.get(ref.repository, ref.reference)
    client.manifests.put(ref.repository, manifest.digest, manifest, tags=tags)
    ctx.emit(
        {"digest": manifest.digest, "tags": [f"{ref.repository_ref}:{t}" for t in tags]},
        "\n".join(f"Tagged {ref.repository_ref}:{t} ({manifest.digest})" for t in tags),
    )
    return 0
