"""Copy an image between any two stores: pick the manifests, move the blobs in parallel, push manifests last.

Which manifests: an image manifest is copied as it is. An index is copied whole with ``all_platforms`` (children
first, the index last, every digest unchanged); otherwise the one child matching ``platform`` (default: this
machine's) is copied as the image. Blobs are transferred by a thread pool, each at most once however many
manifests share it; the destination skips blobs it has and mounts from the source repository when both are in
one registry. A failure cancels the other transfers and nothing is tagged.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from registry_client import Descriptor, Manifest, Platform
from registry_client.descriptors import host_platform

from .progress import Progress
from .stores import Store, StoreError

__all__ = ["MAX_DEPTH", "CopyResult", "Selection", "copy_image", "select"]

#: Levels of indexes within indexes a copy follows (images nest one or two; the registry bounds a manifest's own
#: JSON nesting at the same 32): past it a copy stops with one line instead of recursing until Python gives up.
MAX_DEPTH = 32


@dataclass(frozen=True)
class Selection:
    all_platforms: bool = False
    platform: Platform | None = None


@dataclass
class CopyResult:
    digest: str
    media_type: str
    manifests: int = 0
    blobs: dict[str, int] = field(default_factory=lambda: {"copied": 0, "skipped": 0, "mounted": 0})
    bytes: int = 0
    seconds: float = 0.0
    #: Every manifest pushed, children before their index (the subjects whose referrers may follow).
    manifest_digests: list[str] = field(default_factory=list)
    #: Referrers copied after the image (filled in by the caller that copies them).
    referrers: list[str] | None = None

    def to_json(self, source: str, destination: str) -> dict[str, Any]:
        return {
            "source": source,
            "destination": destination,
            "digest": self.digest,
            "mediaType": self.media_type,
            "manifests": self.manifests,
            "blobs": self.blobs,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            **({"referrers": self.referrers} if self.referrers is not None else {}),
        }


def select(
    source: Store, root: Manifest, selection: Selection, holds_indexes: bool = True, depth: int = 1
) -> list[Manifest]:
    """The manifests to copy, in push order (children before their index); the last one is what gets tagged.

    ``root`` is at nesting level ``depth``; an index deeper than ``MAX_DEPTH`` is a :class:`StoreError`."""
    if not root.is_index:
        return [root]
    if depth > MAX_DEPTH:
        raise StoreError(f"{source.describe()}: indexes nest more than {MAX_DEPTH} levels deep ({root.digest})")
    if selection.all_platforms:
        if not holds_indexes:
            raise StoreError(
                "the destination holds a single image: choose one with --platform instead of --all"
            )
        ordered: list[Manifest] = []
        for child in root.manifests:
            ordered.extend(select(source, source.manifest(child), selection, depth=depth + 1))
        return [*ordered, root]
    wanted = selection.platform or host_platform()
    for child in root.manifests:
        if wanted.matches(child.platform):
            return select(source, source.manifest(child), selection, holds_indexes, depth + 1)
    available = ", ".join(str(c.platform) for c in root.manifests if c.platform) or "none"
    raise StoreError(f"no image for platform {wanted} (available: {available}); use --platform or --all")


def blobs_of(manifests: list[Manifest]) -> list[Descriptor]:
    """Every distributable blob the manifests reference, once each, in order."""
    seen: dict[str, Descriptor] = {}
    for manifest in manifests:
        if manifest.is_index:
            continue
        for blob in manifest.blobs:
            if blob.distributable and blob.digest not in seen:
                seen[blob.digest] = blob
    return list(seen.values())


def copy_image(
    source: Store,
    destination: Store,
    selection: Selection,
    *,
    jobs: int = 4,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy what ``source`` names to ``destination``; returns what was done."""
    progress = progress or Progress(quiet=True)
    started = time.monotonic()
    manifests = select(source, source.root(), selection, destination.holds_indexes)
    blobs = blobs_of(manifests)
    root = manifests[-1]
    result = CopyResult(
        root.digest, root.media_type, manifests=len(manifests), manifest_digests=[m.digest for m in manifests]
    )
    progress.begin(f"Copying {len(blobs)} blobs", sum(b.size for b in blobs), len(blobs))
    try:
        _transfer(source, destination, blobs, jobs, progress, result)
        for manifest in manifests:
            destination.put_manifest(manifest, root=manifest is root, name=source.name())
        destination.commit()
    except BaseException:
        destination.abort()
        raise
    finally:
        progress.end()
    result.seconds = time.monotonic() - started
    count = f"{len(manifests)} manifest{'s' if len(manifests) != 1 else ''}"
    progress.message(f"Copied {root.digest} ({count}) in {result.seconds:.1f}s")
    return result


def _transfer(
    source: Store,
    destination: Store,
    blobs: list[Descriptor],
    jobs: int,
    progress: Progress,
    result: CopyResult,
) -> None:
    lock = threading.Lock()

    def one(blob: Descriptor) -> None:
        outcome = destination.put_blob(blob, source, progress.task(blob.digest, blob.size))
        progress.item(blob.digest, outcome, blob.size)
        with lock:
            result.blobs[outcome] += 1
            result.bytes += blob.size if outcome == "copied" else 0

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="dist-blob") as pool:
        futures = [pool.submit(one, blob) for blob in blobs]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is not None:
            progress.cancel()
            for future in futures:
                future.cancel()
            wait(futures)
            raise failed.exception()  # type: ignore[misc]
