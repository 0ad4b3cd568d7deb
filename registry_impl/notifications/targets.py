"""What each action is about, as distribution's bridge describes it (``notifications/bridge.go``).

Manifest push and pull: media type, digest, size (and length), repository, url, the tag when the request
named one, the references with ``events.includereferences``. Blob push, pull and mount: the blob's
descriptor (``application/octet-stream``), a mount's ``fromRepository``. Deletes: repository and digest
(manifest, blob) or tag.
"""

from __future__ import annotations

from typing import Any

from registry_impl.manifests import ParsedManifest
from registry_impl.notifications.events import LAYER_MEDIA_TYPE, Target

__all__ = ["blob", "blob_deleted", "manifest", "manifest_deleted", "tag_deleted"]


def _references(parsed: ParsedManifest) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"mediaType": d.media_type, "digest": d.digest, "size": d.size}
        for d in (*parsed.blobs, *parsed.manifests)
    )


def manifest(
    action: str,
    name: str,
    digest: str,
    media_type: str,
    size: int,
    tag: str | None,
    parsed: ParsedManifest | None = None,
) -> Target:
    """A manifest pushed or pulled; ``parsed`` (when references are wanted) gives its references."""
    refs = _references(parsed) if parsed is not None else ()
    return Target(action, name, "manifest", digest, media_type, size, tag or "", references=refs)


def blob(action: str, name: str, digest: str, size: int, from_repository: str | None = None) -> Target:
    """A blob pushed, pulled or mounted (from ``from_repository``)."""
    return Target(action, name, "blob", digest, LAYER_MEDIA_TYPE, size, from_repository=from_repository or "")


def manifest_deleted(name: str, digest: str) -> Target:
    return Target("delete", name, digest=digest)


def blob_deleted(name: str, digest: str) -> Target:
    return Target("delete", name, digest=digest)


def tag_deleted(name: str, tag: str) -> Target:
    return Target("delete", name, tag=tag)
