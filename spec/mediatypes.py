"""Media types and the JSON Schemas of manifests, indexes, configs, descriptors and API bodies.

The schemas are deliberately open (unknown fields allowed, as both specs require of readers) and
are written in the subset JSON Schema shares with OpenAPI 3.0 (``enum`` rather than ``const``),
so the one document serves OpenAPI 3.1 readers and the 3.0-only framework alike. They are used three ways: OpenAPI components, standalone files under ``generated/schemas/``, and the
server's manifest PUT validation.
"""

from __future__ import annotations

from typing import Any

JSON = "application/json"
ERRORS_JSON = "application/json"
OCTET_STREAM = "application/octet-stream"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

IMAGE_MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEXES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_SCHEMA1_SIGNED)

MANIFEST_SCHEMA_BY_TYPE = {
    OCI_MANIFEST: "OCIImageManifest",
    OCI_INDEX: "OCIImageIndex",
    DOCKER_MANIFEST: "DockerManifestV2",
    DOCKER_MANIFEST_LIST: "DockerManifestList",
    DOCKER_SCHEMA1_SIGNED: "DockerSchema1",
}

MEDIA_TYPE_DESCRIPTIONS: dict[str, str] = {
    OCI_MANIFEST: "OCI image manifest: a config and an ordered list of layers, optionally a subject.",
    OCI_INDEX: "OCI image index: a list of manifests, typically one per platform.",
    OCI_CONFIG: "OCI image configuration.",
    OCI_EMPTY: "The empty descriptor's content, `{}` (2 bytes), used by artifacts without a config.",
    OCI_LAYER: "Uncompressed layer tar archive.",
    OCI_LAYER_GZIP: "gzip-compressed layer tar archive.",
    OCI_LAYER_ZSTD: "zstd-compressed layer tar archive.",
    DOCKER_MANIFEST: "Docker image manifest, schema version 2.",
    DOCKER_MANIFEST_LIST: "Docker manifest list (multi-architecture).",
    DOCKER_CONFIG: "Docker image configuration.",
    DOCKER_LAYER: "Docker gzip-compressed layer.",
    DOCKER_FOREIGN_LAYER: "Docker layer that must be fetched from its `urls` (never pushed).",
    DOCKER_SCHEMA1_SIGNED: "Docker schema 1 signed manifest (deprecated), for migrations: served from data "
    "directories old distribution versions wrote; pushed only under `compatibility.schema1.enabled`, with a valid "
    "signature (see [DockerSchema1](#dockerschema1)).",
}

_DIGEST = {"type": "string", "pattern": r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"}
_MEDIA_TYPE = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$",
}
_ANNOTATIONS = {"type": "object", "additionalProperties": {"type": "string"}}
_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _manifest(media_type: str, *, required_media_type: bool, list_field: str, item: str) -> dict[str, Any]:
    required = ["schemaVersion", list_field] + (["config"] if list_field == "layers" else [])
    if required_media_type:
        required.append("mediaType")
    props: dict[str, Any] = {
        "schemaVersion": {"type": "integer", "enum": [2]},
        "mediaType": {"type": "string", "enum": [media_type]},
        list_field: {"type": "array", "items": _ref(item)},
    }
    if list_field == "layers":
        props["config"] = _ref("Descriptor")
    return {"type": "object", "required": sorted(required), "properties": props}


def _oci(media_type: str, list_field: str, item: str) -> dict[str, Any]:
    schema = _manifest(media_type, required_media_type=False, list_field=list_field, item=item)
    schema["properties"].update(
        {"artifactType": _MEDIA_TYPE, "subject": _ref("Descriptor"), "annotations": _ANNOTATIONS}
    )
    return schema


SCHEMAS: dict[str, dict[str, Any]] = {
    "ErrorEnvelope": {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "pattern": "^[A-Z_]+$"},
                        "message": {"type": "string"},
                        "detail": {},
                    },
                },
            }
        },
    },
    "Empty": {"type": "object", "description": "An empty JSON object, `{}`."},
    "Catalog": {
        "type": "object",
        "required": ["repositories"],
        "properties": {"repositories": {"type": "array", "items": {"type": "string"}}},
    },
    "TagList": {
        "type": "object",
        "required": ["name", "tags"],
        "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
    },
    "Platform": {
        "type": "object",
        "required": ["architecture", "os"],
        "properties": {
            "architecture": {"type": "string"},
            "os": {"type": "string"},
            "os.version": {"type": "string"},
            "os.features": {"type": "array", "items": {"type": "string"}},
            "variant": {"type": "string"},
            "features": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Descriptor": {
        "type": "object",
        "required": ["mediaType", "digest", "size"],
        "properties": {
            "mediaType": _MEDIA_TYPE,
            "digest": _DIGEST,
            "size": {"type": "integer", "minimum": 0},
            "urls": {"type": "array", "items": {"type": "string"}},
            "annotations": _ANNOTATIONS,
            "data": {"type": "string", "description": "The content, base64-encoded (embedded data)."},
            "artifactType": _MEDIA_TYPE,
        },
    },
    "IndexDescriptor": {
        "allOf": [_ref("Descriptor")],
        "type": "object",
        "properties": {"platform": _ref("Platform")},
    },
    "OCIImageManifest": _oci(OCI_MANIFEST, "layers", "Descriptor"),
    "OCIImageIndex": _oci(OCI_INDEX, "manifests", "IndexDescriptor"),
    "DockerManifestV2": _manifest(
        DOCKER_MANIFEST, required_media_type=True, list_field="layers", item="Descriptor"
    ),
    "DockerManifestList": _manifest(
        DOCKER_MANIFEST_LIST, required_media_type=True, list_field="manifests", item="IndexDescriptor"
    ),
    "DockerSchema1": {
        "type": "object",
        "required": ["schemaVersion", "fsLayers", "history"],
        "properties": {
            "schemaVersion": {"type": "integer", "enum": [1]},
            "name": {"type": "string"},
            "tag": {"type": "string"},
            "architecture": {"type": "string"},
            "fsLayers": {
                "type": "array",
                "items": {"type": "object", "required": ["blobSum"], "properties": {"blobSum": _DIGEST}},
            },
            "history": {
                "type": "array",
                "items": {"type": "object", "properties": {"v1Compatibility": {"type": "string"}}},
            },
            "signatures": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["header", "signature", "protected"],
                    "properties": {
                        "header": {
                            "type": "object",
                            "properties": {"jwk": {"type": "object"}, "alg": {"type": "string"}},
                        },
                        "signature": {"type": "string"},
                        "protected": {"type": "string"},
                    },
                },
            },
        },
    },
    "ImageConfig": {
        "type": "object",
        "description": "OCI / Docker image configuration (the fields a registry may read).",
        "properties": {
            "architecture": {"type": "string"},
            "os": {"type": "string"},
            "created": {"type": "string"},
            "config": {"type": "object"},
            "rootfs": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["layers"]},
                    "diff_ids": {"type": "array", "items": _DIGEST},
                },
            },
            "history": {"type": "array", "items": {"type": "object"}},
        },
    },
}
SCHEMAS["Manifest"] = {"oneOf": [_ref(name) for name in MANIFEST_SCHEMA_BY_TYPE.values()]}

SCHEMA_DESCRIPTIONS: dict[str, str] = {
    "ErrorEnvelope": "The body of every error answer.",
    "Empty": "The body of `GET /v2/`.",
    "Catalog": "A page of repository names.",
    "TagList": "A page of tags of one repository.",
    "Platform": "The platform a manifest in an index runs on.",
    "Descriptor": "A reference to content: media type, digest and size.",
    "IndexDescriptor": "A descriptor in an index, with an optional platform.",
    "OCIImageManifest": "The OCI image manifest (also used for artifacts).",
    "OCIImageIndex": "The OCI image index (also the referrers answer).",
    "DockerManifestV2": "The Docker image manifest, schema 2.",
    "DockerManifestList": "The Docker manifest list.",
    "DockerSchema1": (
        "The Docker image manifest, schema 1 (`application/vnd.docker.distribution.manifest.v1+prettyjws`): "
        "`fsLayers` (layer digests, last layer first) and `history` (one `v1Compatibility` JSON string per layer), "
        "signed with libtrust's *pretty JWS*: `signatures` is spliced into the document before its closing brace; "
        "each signature carries its key (`header.jwk`, whose `kid` is the libtrust key ID), `alg` (ES256/384/512 or "
        "RS256/384/512) and a `protected` header naming `formatLength` and `formatTail`, from which the signed "
        "*payload* is rebuilt (`content[:formatLength] + formatTail`, the document without its signatures). The "
        "manifest's digest is the payload's, and the payload is the blob stored, as distribution 2.x stores it. "
        "A push is refused with `MANIFEST_UNVERIFIED` when it is unsigned or a signature does not verify; it is "
        "served back byte for byte as pushed, and one an older registry wrote (payload only) is served signed by "
        "this registry's key (`compatibility.schema1.signingkeyfile`, else one generated at start), as "
        "distribution does."
    ),
    "ImageConfig": "An image configuration blob.",
    "Manifest": "Any manifest this registry stores.",
}


def standalone_schema(name: str) -> dict[str, Any]:
    """``SCHEMAS[name]`` as a self-contained JSON Schema document (refs resolved via ``$defs``)."""
    defs: dict[str, Any] = {}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(_REF):
                    target = value[len(_REF) :]
                    if target not in defs:
                        defs[target] = {}
                        defs[target] = rewrite(SCHEMAS[target])
                    out[key] = "#/$defs/" + target
                else:
                    out[key] = rewrite(value)
            return out
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    body = rewrite(SCHEMAS[name])
    doc: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": name}
    doc["description"] = SCHEMA_DESCRIPTIONS[name]
    doc.update(body)
    if defs:
        doc["$defs"] = dict(sorted(defs.items()))
    return doc
