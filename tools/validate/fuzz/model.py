"""What the state machine knows: the campaign's shared environment and its model of the registry's content."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from registry_toolkit.validate.fuzz.findings import Findings
from registry_toolkit.validate.fuzz.senders import Sender


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Env:
    """What every machine of a campaign shares. Each machine run works in repositories of its own,
    ``<namespace>/r<run>/<suffix>``, so what earlier runs left behind cannot contradict its model."""

    operations: dict[str, Any]
    sender: Sender
    findings: Findings
    namespace: str
    deletes: bool
    expired: Callable[[], bool]
    suffixes: tuple[str, ...] = ("a", "b/c", "a/d")
    runs: int = 0

    def names(self) -> list[str]:
        self.runs += 1
        return [f"{self.namespace}/r{self.runs}/{suffix}" for suffix in self.suffixes]


@dataclass(frozen=True)
class Upload:
    """An open upload session: where to continue it (path id and query, e.g. a state token) and what it holds."""

    name: str
    uuid: str
    query: tuple[tuple[str, str], ...]
    data: bytes

    @property
    def path(self) -> dict[str, str]:
        return {"name": self.name, "uuid": self.uuid}


@dataclass(frozen=True)
class Blob:
    name: str
    data: bytes

    @property
    def digest(self) -> str:
        return sha256(self.data)

    def descriptor(self, media_type: str) -> dict[str, Any]:
        return {"mediaType": media_type, "digest": self.digest, "size": len(self.data)}


@dataclass(frozen=True)
class Manifest:
    name: str
    content: bytes
    media_type: str
    tag: str | None

    @property
    def digest(self) -> str:
        return sha256(self.content)


@dataclass
class Model:
    """What the registry holds, as far as this machine knows."""

    blobs: set[tuple[str, str]] = field(default_factory=set)
    manifests: set[tuple[str, str]] = field(default_factory=set)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)

    def has_blob(self, blob: Blob, name: str | None = None) -> bool:
        return (name or blob.name, blob.digest) in self.blobs

    def drop_manifest(self, name: str, digest: str) -> None:
        self.manifests.discard((name, digest))
        for key in [k for k, v in self.tags.items() if k[0] == name and v == digest]:
            del self.tags[key]
