"""Parse and validate manifest bytes (sans-I/O): size and shape bounds, media type, schema, references and
subject."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from registry_spec import mediatypes as mt
from registry_spec import params as P
from registry_spec.protocol.descriptors import Descriptor, Platform

from registry_impl.digests import parse_digest
from registry_impl.errors import DigestInvalid, ManifestInvalid
from registry_impl.manifestschemas import schema_error

MAX_MANIFEST_SIZE = P.MANIFEST_MAX_BYTES
#: Most descriptors a manifest may hold: JSON objects with a ``digest`` member, wherever they are.
MAX_DESCRIPTORS = P.MANIFEST_MAX_DESCRIPTORS
#: Deepest nesting of JSON objects and arrays (a manifest needs 4: root, layers, descriptor, annotations).
MAX_DEPTH = P.MANIFEST_MAX_DEPTH
_DIGEST_KEY = re.compile(rb'"digest"\s*:')
GENERIC_CONTENT_TYPES = frozenset({"", "application/json", "application/octet-stream", "text/plain"})


class ManifestTooLarge(ManifestInvalid):
    """A manifest over the size limit: MANIFEST_INVALID, with the descriptor's answer for it (413)."""

    answer = P.MANIFEST_TOO_LARGE


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
    declares_media_type: bool = True
    urls: tuple[str, ...] = ()
    """The URLs of layers fetched from elsewhere (foreign or non-distributable layers)."""


@dataclass(frozen=True)
class URLRules:
    """``validation.manifests.urls``: a layer URL must match ``allow`` (when set) and not ``deny``
    (unanchored searches, as Go's ``MatchString``); distribution refuses the manifest otherwise."""

    allow: re.Pattern[str] | None = None
    deny: re.Pattern[str] | None = None

    @classmethod
    def from_lists(cls, allow: tuple[str, ...], deny: tuple[str, ...]) -> URLRules:
        """The rules from distribution's lists, each joined with ``|`` as distribution does."""
        return cls(
            re.compile("|".join(allow)) if allow else None, re.compile("|".join(deny)) if deny else None
        )

    def check(self, parsed: ParsedManifest) -> None:
        """Raise ManifestInvalid for the first layer URL the rules refuse."""
        for url in parsed.urls:
            if (self.allow is not None and not self.allow.search(url)) or (
                self.deny is not None and self.deny.search(url)
            ):
                raise ManifestInvalid(
                    "layer url not allowed by validation.manifests.urls", detail={"url": url}
                )


@dataclass(frozen=True)
class SparseRules:
    """Which references of a pushed manifest must exist (the rest may be missing: a *sparse* manifest).

    ``platforms`` is distribution 3's ``validation.manifests.indexes.platforms``: ``all`` children of an index
    (the default), ``none``, or (``list``) those whose platform is in ``platform_list``. ``layers`` is this
    project's ``validation.manifests.layers.required``: ``all`` (the default) or ``none`` of an image's layers;
    an image's config is always required.
    """

    platforms: str = "all"
    platform_list: tuple[Platform, ...] = ()
    layers: str = "all"

    def required_children(self, parsed: ParsedManifest) -> tuple[Descriptor, ...]:
        if self.platforms == "none":
            return ()
        if self.platforms == "list":
            return tuple(
                d for d in parsed.manifests if any(p.matches(d.platform) for p in self.platform_list)
            )
        return parsed.manifests

    def required_blobs(self, parsed: ParsedManifest) -> tuple[Descriptor, ...]:
        if self.layers == "none" and parsed.config_media_type is not None:
            return parsed.blobs[:1]  # the config
        return parsed.blobs


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
    if document.get("schemaVersion") == 1:
        return mt.DOCKER_SCHEMA1_SIGNED  # a schema 1 payload, as distribution 2.x stores it
    return str(mt.OCI_INDEX if "manifests" in document else mt.OCI_MANIFEST)


def _descriptor(raw: Any, where: str) -> Descriptor:
    try:
        parse_digest(raw["digest"])
    except DigestInvalid as exc:
        raise ManifestInvalid(f"invalid digest in {where}", detail={"digest": raw.get("digest")}) from exc
    return Descriptor.from_json(raw)


#: distribution (Go) decodes a descriptor's ``size`` into an int64 and ``schemaVersion`` into an int: a fraction
#: (``11.0``), an exponent (``1.1e1``) or a number past int64 is refused there and unreadable by Go clients.
INT64 = range(-(1 << 63), 1 << 63)
#: Where an incoming manifest's descriptors stand (Go's structs; a number in a field they do not know is ignored).
DESCRIPTOR_FIELDS = ("config", "subject")
DESCRIPTOR_LISTS = ("layers", "manifests", "blobs")


def _go_integer(value: object, where: str) -> None:
    if type(value) is not int or value not in INT64:
        raise ManifestInvalid(f"{where} must be a whole number (int64)", detail={"value": str(value)[:64]})


def check_numbers(document: dict[str, Any]) -> None:
    """Refuse numbers distribution cannot decode: ``schemaVersion`` and every descriptor's ``size``."""
    if "schemaVersion" in document:
        _go_integer(document["schemaVersion"], "schemaVersion")
    descriptors = [document.get(key) for key in DESCRIPTOR_FIELDS]
    for key in DESCRIPTOR_LISTS:
        if isinstance(document.get(key), list):
            descriptors.extend(document[key])
    for descriptor in descriptors:
        if isinstance(descriptor, dict) and "size" in descriptor:
            _go_integer(descriptor["size"], "descriptor size")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def _too_many(count: int | None) -> ManifestInvalid:
    detail: dict[str, object] = {"limit": MAX_DESCRIPTORS}
    if count is not None:
        detail["descriptors"] = count
    return ManifestInvalid("manifest has too many descriptors", detail=detail)


def precheck_descriptors(content: bytes) -> None:
    """Refuse, before any parsing, a body with more ``"digest":`` members than ``MAX_DESCRIPTORS``.

    Byte scans at C speed (~1 ms a scan for 4 MiB), so a crafted body is refused without being parsed. A body that
    passes may still be over the cap (escaped member names): ``check_bounds`` counts exactly after parsing.
    """
    count = content.count(b'"digest":')  # compact JSON, as clients write it
    if count <= MAX_DESCRIPTORS and content.count(b'"digest"') > MAX_DESCRIPTORS:
        count = len(_DIGEST_KEY.findall(content))  # spaces before the colon
    if count > MAX_DESCRIPTORS:
        raise _too_many(count)


def check_bounds(document: object) -> None:
    """ManifestInvalid when the parsed document holds more than ``MAX_DESCRIPTORS`` objects with a
    ``digest`` or nests deeper than ``MAX_DEPTH``; stops at the first excess (iterative, no recursion)."""
    count = 0
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ManifestInvalid("manifest nests too deeply", detail={"limit": MAX_DEPTH})
        if isinstance(value, dict):
            if "digest" in value:
                count += 1
                if count > MAX_DESCRIPTORS:
                    raise _too_many(None)
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def load_bounded(content: bytes) -> Any:
    """``content`` as UTF-8 JSON within the size, descriptor and depth bounds (ManifestInvalid otherwise)."""
    if len(content) > MAX_MANIFEST_SIZE:
        raise ManifestTooLarge(
            "manifest too large", detail={"size": len(content), "limit": MAX_MANIFEST_SIZE}
        )
    precheck_descriptors(content)
    try:
        # NaN and Infinity: Python's json reads them, distribution and every Go client refuse them
        document = json.loads(content.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # bad UTF-8 is a ValueError; deep nesting recurses
        raise ManifestInvalid(
            "manifest is not UTF-8 encoded JSON", detail={"reason": str(exc)[:200]}
        ) from exc
    check_bounds(document)
    return document


def parse_manifest(content: bytes, content_type: str, *, bounded: bool = True) -> ParsedManifest:
    """Validate ``content`` as a manifest; raise ManifestInvalid (or ManifestTooLarge) when it is not one.

    The bounds (size, descriptors, depth) are checked before the schema; ``bounded=False`` reads a stored
    manifest as it is (one another registry wrote may exceed them).
    """
    if bounded:
        document = load_bounded(content)
    else:
        try:
            document = json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise ManifestInvalid("manifest is not valid JSON", detail={"reason": str(exc)}) from exc
    if not isinstance(document, dict):
        raise ManifestInvalid("manifest must be a JSON object")
    media_type = detect_media_type(document, content_type)
    schema_name = mt.MANIFEST_SCHEMA_BY_TYPE.get(media_type)
    if schema_name is None:
        raise ManifestInvalid("unsupported manifest media type", detail={"mediaType": media_type})
    error = schema_error(schema_name, document)
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path)
        raise ManifestInvalid(
            f"manifest does not match {schema_name}", detail={"path": path, "reason": error.message}
        )
    if bounded:  # an incoming manifest (one already stored is read as it is)
        check_numbers(document)
    return _interpret(document, media_type)


def _interpret(document: dict[str, Any], media_type: str) -> ParsedManifest:
    common: dict[str, Any] = {
        "subject": _descriptor(document["subject"], "subject") if "subject" in document else None,
        "artifact_type": document.get("artifactType"),
        "annotations": document.get("annotations") or {},
        "declares_media_type": "mediaType" in document,
    }
    if media_type == mt.DOCKER_SCHEMA1_SIGNED:
        blob_sums = dict.fromkeys(str(layer["blobSum"]) for layer in document["fsLayers"])
        for digest in blob_sums:
            try:
                parse_digest(digest)
            except DigestInvalid as exc:
                raise ManifestInvalid("invalid blobSum in fsLayers", detail={"digest": digest}) from exc
        return ParsedManifest(
            media_type,
            blobs=tuple(Descriptor(mt.DOCKER_LAYER, d, 0) for d in blob_sums),
            declares_media_type=False,
        )
    if media_type in mt.INDEXES:
        children = tuple(_descriptor(d, "manifests") for d in document["manifests"])
        return ParsedManifest(media_type, manifests=children, **common)
    config = _descriptor(document["config"], "config")
    layers = tuple(_descriptor(d, "layers") for d in document["layers"])
    docker = media_type == mt.DOCKER_MANIFEST
    required = tuple(d for d in layers if not _external(d, docker))
    urls = tuple(url for d in layers for url in d.urls)
    return ParsedManifest(
        media_type, blobs=(config, *required), config_media_type=config.media_type, urls=urls, **common
    )


def _external(layer: Descriptor, docker: bool) -> bool:
    """Whether a layer is fetched from its ``urls`` rather than pushed (as distribution checks it).

    Docker: only foreign layers, which must have URLs. OCI: any layer with URLs. URLs are http or
    https, without a fragment.
    """
    if docker and (layer.media_type == mt.DOCKER_FOREIGN_LAYER) != bool(layer.urls):
        reason = "foreign layer without urls" if layer.urls == () else "only foreign layers may have urls"
        raise ManifestInvalid(reason, detail={"digest": layer.digest})
    for url in layer.urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ManifestInvalid("invalid layer url", detail={"digest": layer.digest, "url": url})
    return bool(layer.urls)


def artifact_type_of(parsed: ParsedManifest) -> str | None:
    """The artifact type a referrers list shows: ``artifactType``, else the config's media type (OCI 1.1)."""
    if parsed.artifact_type:
        return parsed.artifact_type
    if parsed.media_type == mt.OCI_MANIFEST:
        return parsed.config_media_type
    return None
