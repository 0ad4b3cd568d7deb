"""The OCI descriptor, platform and manifest model: what a manifest references, parsed without any I/O.

The client copies with it, the server reads what a pushed manifest references with it, dist stores it in layouts
and archives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from registry_spec import mediatypes as mt
from registry_spec.protocol.digests import digest_of
from registry_spec.protocol.errors import InvalidPlatform

__all__ = ["NON_DISTRIBUTABLE", "Descriptor", "Manifest", "Platform"]

#: Layers a registry need not have (their ``urls`` say where they live): copies skip them.
NON_DISTRIBUTABLE = frozenset(
    {
        mt.DOCKER_FOREIGN_LAYER,
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)


@dataclass(frozen=True)
class Platform:
    """``os/architecture[/variant]``; ``matches`` ignores a variant the wanted platform leaves out."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidPlatform(f"invalid platform {text!r}: expected os/arch[/variant]", {"platform": text})
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Platform:
        return cls(str(value.get("os", "")), str(value.get("architecture", "")), value.get("variant") or None)

    def matches(self, other: Platform | None) -> bool:
        if other is None:
            return False
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        return self.variant is None or self.variant == other.variant

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor (the fields a copy needs, plus everything else kept in ``extra``)."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    urls: tuple[str, ...] = ()
    artifact_type: str | None = None

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Descriptor:
        platform = value.get("platform")
        return cls(
            media_type=str(value.get("mediaType", "")),
            digest=str(value["digest"]),
            size=int(value["size"]),
            platform=Platform.from_json(platform) if isinstance(platform, dict) else None,
            annotations=dict(value.get("annotations") or {}),
            urls=tuple(value.get("urls") or ()),
            artifact_type=value.get("artifactType"),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.platform is not None:
            p = {"architecture": self.platform.architecture, "os": self.platform.os}
            if self.platform.variant:
                p["variant"] = self.platform.variant
            out["platform"] = p
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = self.annotations
        return out

    @property
    def distributable(self) -> bool:
        return self.media_type not in NON_DISTRIBUTABLE


@dataclass(frozen=True)
class Manifest:
    """A manifest's exact bytes, its media type and digest; the parsed document on demand."""

    content: bytes
    media_type: str
    digest: str = ""

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", digest_of(self.content))
        if not self.media_type:
            document = self.document
            guess = mt.OCI_INDEX if "manifests" in document else mt.OCI_MANIFEST
            object.__setattr__(self, "media_type", str(document.get("mediaType") or guess))

    @classmethod
    def from_document(cls, document: dict[str, Any], media_type: str | None = None) -> Manifest:
        content = json.dumps(document, indent=3).encode()
        return cls(content, media_type or str(document.get("mediaType") or ""))

    @property
    def document(self) -> dict[str, Any]:
        value = json.loads(self.content)
        if not isinstance(value, dict):
            raise ValueError("a manifest is a JSON object")
        return value

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.content))

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEXES or (
            self.media_type not in mt.IMAGE_MANIFESTS and "manifests" in self.document
        )

    @property
    def manifests(self) -> list[Descriptor]:
        """The children of an index (empty for an image manifest)."""
        return [Descriptor.from_json(d) for d in self.document.get("manifests") or []]

    @property
    def config(self) -> Descriptor | None:
        config = self.document.get("config")
        return Descriptor.from_json(config) if isinstance(config, dict) else None

    @property
    def layers(self) -> list[Descriptor]:
        return [Descriptor.from_json(d) for d in self.document.get("layers") or []]

    @property
    def blobs(self) -> list[Descriptor]:
        """Config then layers: what must be in a repository before this manifest can be pushed."""
        config = self.config
        return ([config] if config is not None else []) + self.layers

    @property
    def subject(self) -> Descriptor | None:
        subject = self.document.get("subject")
        return Descriptor.from_json(subject) if isinstance(subject, dict) else None
