"""Parse and validate manifest bytes (sans-I/O): media type, schema, references and subject."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema
from registry_spec import mediatypes as mt

from registry_impl.digests import parse_digest
from registry_impl.errors import DigestInvalid, ManifestInvalid

MAX_MANIFEST_SIZE = 4 * 1024 * 1024
GENERIC_CONTENT_TYPES = frozenset({"", "application/json", "application/octet-stream", "text/plain"})


class ManifestTooLarge(ManifestInvalid):
    """A manifest over the size limit (answered 413)."""

    status = 413


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None


@dataclass(frozen=True)
class ParsedManifest:
    """What the registry needs from a manifest: its type, what it references and what it refers to."""

    media_type: str
    blobs: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    config_media_type: str | None = None


@cache
def _validator(schema_name: str) -> jsonschema.protocols.Validator:
    schema = mt.standalone_schema(schema_name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


def detect_media_type(document: dict[str, Any], content_type: str) -> str:
    """The manifest's media type: its ``mediaType`` field, the request's Content-Type, or its shape."""
    declared = document.get("mediaType")
    content_type = content_type.split(";", 1)[0].strip().lower()
    if isinstance(declared, str) and declared:
        if content_type not in GENERIC_CONTENT_TYPES and content_type != declared:
            raise ManifestInvalid(
                "mediaType does not match Content-Type",
                detail={"mediaType": declared, "contentType": content_type},
            )
        return declared
    if content_type not in GENERIC_CONTENT_TYPES:
        return content_type
    return str(mt.OCI_INDEX if "manifests" in document else mt.OCI_MANIFEST)


def _descriptor(raw: Any, where: str) -> Descriptor:
    try:
        digest = str(parse_digest(raw["digest"]))
    except DigestInvalid as exc:
        raise ManifestInvalid(f"invalid digest in {where}", detail={"digest": raw.get("digest")}) from exc
    return Descriptor(
        raw["mediaType"], digest, int(raw["size"]), raw.get("artifactType"), raw.get("annotations")
    )


def parse_manifest(content: bytes, content_type: str) -> ParsedManifest:
    """Validate ``content`` as a manifest; raise ManifestInvalid (or ManifestTooLarge) when it is not one."""
    if len(content) > MAX_MANIFEST_SIZE:
        raise ManifestTooLarge(
            "manifest too large", detail={"size": len(content), "limit": MAX_MANIFEST_SIZE}
        )
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestInvalid("manifest is not valid JSON", detail={"reason": str(exc)}) from exc
    if not isinstance(document, dict):
        raise ManifestInvalid("manifest must be a JSON object")
    media_type = detect_media_type(document, content_type)
    schema_name = mt.MANIFEST_SCHEMA_BY_TYPE.get(media_type)
    if schema_name is None:
        raise ManifestInvalid("unsupported manifest media type", detail={"mediaType": media_type})
    error = jsonschema.exceptions.best_match(_validator(schema_name).iter_errors(document))
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path)
        raise ManifestInvalid(
            f"manifest does not match {schema_name}", detail={"path": path, "reason": error.message}
        )
    return _interpret(document, media_type)


def _interpret(document: dict[str, Any], media_type: str) -> ParsedManifest:
    subject = _descriptor(document["subject"], "subject") if "subject" in document else None
    artifact_type = document.get("artifactType")
    annotations = document.get("annotations") or {}
    if media_type in mt.INDEXES:
        children = tuple(_descriptor(d, "manifests") for d in document["manifests"])
        return ParsedManifest(
            media_type,
            manifests=children,
            subject=subject,
            artifact_type=artifact_type,
            annotations=annotations,
        )
    config = _descriptor(document["config"], "config")
    layers = tuple(_descriptor(d, "layers") for d in document["layers"])
    # Layers that carry URLs (Docker foreign layers, OCI non-distributable) are fetched elsewhere.
    required = tuple(
        d for d in layers if not (d.media_type == mt.DOCKER_FOREIGN_LAYER or _has_urls(document, d))
    )
    return ParsedManifest(
        media_type,
        blobs=(config, *required),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
        config_media_type=config.media_type,
    )


def _has_urls(document: dict[str, Any], descriptor: Descriptor) -> bool:
    return any(layer.get("digest") == descriptor.digest and layer.get("urls") for layer in document["layers"])


def artifact_type_of(parsed: ParsedManifest) -> str | None:
    """The artifact type a referrers list shows: ``artifactType``, else the config's media type (OCI 1.1)."""
    if parsed.artifact_type:
        return parsed.artifact_type
    if parsed.media_type == mt.OCI_MANIFEST:
        return parsed.config_media_type
    return None
