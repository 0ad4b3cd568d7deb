"""Notification events of the services: each is written (``Notifier.emit``) before the request is answered.

Called only when ``state.notifier`` is set (the callers test it: no cost without notifications).
"""

from __future__ import annotations

from collections.abc import Iterable

from registry_impl.manifests import ParsedManifest, parse_manifest
from registry_impl.notifications import targets
from registry_impl.services.state import State
from registry_impl.storage.blobs import BlobInfo
from registry_impl.storage.manifests import StoredManifest

__all__ = [
    "blob_deleted",
    "blob_mounted",
    "blob_pulled",
    "blob_pushed",
    "manifest_deleted",
    "manifest_pulled",
    "manifest_pushed",
    "tag_deleted",
]


async def manifest_pulled(state: State, name: str, reference: str, manifest: StoredManifest) -> None:
    notifier = state.notifier
    if notifier is None or not notifier.wants("pull"):
        return
    tag = None if ":" in reference else reference  # a digest has a ":", a tag cannot
    parsed = None
    if notifier.include_references:
        parsed = await state.offload.sized(len(manifest.content), _parse, manifest)
    target = targets.manifest(
        "pull", name, manifest.digest, manifest.media_type, len(manifest.content), tag, parsed
    )
    await notifier.emit(target)


def _parse(manifest: StoredManifest) -> ParsedManifest:
    return parse_manifest(manifest.content, manifest.media_type, bounded=False)  # stored: read as it is


async def manifest_pushed(
    state: State, name: str, digest: str, parsed: ParsedManifest, size: int, tags: Iterable[str | None]
) -> None:
    """One push event per tag the request set (one without a tag for a push by digest alone)."""
    notifier = state.notifier
    if notifier is None:
        return
    refs = parsed if notifier.include_references else None
    named: list[str | None] = [t for t in tags if t] or [None]
    await notifier.emit(
        *(targets.manifest("push", name, digest, parsed.media_type, size, t, refs) for t in named)
    )


async def manifest_deleted(state: State, name: str, digest: str, tags: Iterable[str]) -> None:
    """A manifest deleted by digest, and the tags that pointed at it (untagged with it)."""
    if state.notifier is not None:
        await state.notifier.emit(
            targets.manifest_deleted(name, digest), *(targets.tag_deleted(name, t) for t in tags)
        )


async def tag_deleted(state: State, name: str, tag: str) -> None:
    if state.notifier is not None:
        await state.notifier.emit(targets.tag_deleted(name, tag))


async def blob_pulled(state: State, name: str, info: BlobInfo) -> None:
    notifier = state.notifier
    if notifier is not None and notifier.wants("pull"):
        await notifier.emit(targets.blob("pull", name, info.digest, info.size))


async def blob_pushed(state: State, name: str, info: BlobInfo) -> None:
    if state.notifier is not None:
        await state.notifier.emit(targets.blob("push", name, info.digest, info.size))


async def blob_mounted(state: State, name: str, info: BlobInfo, source: str | None) -> None:
    if state.notifier is not None:
        await state.notifier.emit(targets.blob("mount", name, info.digest, info.size, source))


async def blob_deleted(state: State, name: str, digest: str) -> None:
    if state.notifier is not None:
        await state.notifier.emit(targets.blob_deleted(name, digest))
