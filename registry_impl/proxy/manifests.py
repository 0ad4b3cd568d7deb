"""Manifests of a proxied repository: a miss fetched from the upstream and stored; tags revalidated.

By digest: served when stored, else fetched (verified against the digest) and stored. By tag: while the
tag was checked less than ``ttl`` ago it is served as stored; after that a HEAD asks the upstream where
it points now (cheap against rate limits: no body unless the digest changed), and the manifest is
fetched only when it is new. When the upstream is unavailable, a tag stored before is served from its
last known value (a warning in the log, ``STATS["stale_tag"]``); nothing stored: 503 naming the upstream.

A fetched manifest is stored as the upstream sent it, before the blobs and child manifests it references
(they are fetched when pulled), under the claims of its revision and its tag.
"""

from __future__ import annotations

import logging

from registry_impl.digests import Digest, parse_digest
from registry_impl.errors import ManifestUnknown
from registry_impl.manifests import parse_manifest
from registry_impl.proxy import expiry, freshness
from registry_impl.proxy.upstream import Upstream, UpstreamUnavailable, count
from registry_impl.references import parse_reference
from registry_impl.services.claims import claimed
from registry_impl.services.state import State
from registry_impl.storage import paths
from registry_impl.storage.blobclaims import blobs_claimed
from registry_impl.storage.manifests import MEDIA_TYPE_FILE, StoredManifest
from registry_impl.storage.registry import Repository

__all__ = ["fetch"]

log = logging.getLogger("registry.proxy")


def _local(repo: Repository, digest: str) -> StoredManifest | None:
    try:
        return repo.manifests.get(digest)
    except ManifestUnknown:
        return None


def _local_tag(repo: Repository, tag: str) -> StoredManifest | None:
    try:
        return repo.manifests.get(repo.tags.resolve(tag))
    except ManifestUnknown:
        return None


def _store(repo: Repository, content: bytes, media_type: str, digest: str, tag: str | None) -> None:
    """Link the upstream's manifest here (and point ``tag`` at it); its references are not required."""
    parsed = parse_manifest(content, media_type, bounded=False)
    driver = repo.registry.driver
    with blobs_claimed(driver, [digest]):  # online GC must not take the bytes before the revision link
        repo.registry.blobs.put(content, parse_digest(digest).algorithm)
        if not parsed.declares_media_type:
            path = f"{paths.manifest_revision_path(repo.name, digest)}/{MEDIA_TYPE_FILE}"
            driver.put_content(path, parsed.media_type.encode())
        repo.manifests.revisions.link(digest)
    if parsed.subject is not None:
        repo.referrers.add(parsed.subject.digest, digest)
    if tag is not None:
        repo.tags.tag(tag, digest)


async def _pull(
    state: State, upstream: Upstream, repo: Repository, reference: str, tag: str | None
) -> StoredManifest:
    """Fetch ``reference`` from the upstream and store it (tagged ``tag``); the stored manifest."""
    offload = state.offload
    content, media_type, digest = await offload.slow(upstream.get_manifest, repo.name, reference)
    async with claimed(state, repo.name, ("manifests", digest), ("tags", tag)):
        await offload.slow(_store, repo, content, media_type, digest, tag)
        await offload.storage(expiry.write_record, state.registry.driver, repo.name, "_manifests", digest)
        if tag is not None:
            await offload.storage(freshness.mark_checked, state.registry.driver, repo.name, tag)
    return await offload.storage(repo.manifests.get, digest)


async def fetch(state: State, upstream: Upstream, name: str, reference: str) -> StoredManifest:
    """The manifest ``reference`` names in proxied repository ``name`` (see the module docstring)."""
    repo = state.registry.repository(name)
    offload = state.offload
    parsed = parse_reference(reference)
    if isinstance(parsed, Digest):
        stored = await offload.storage(_local, repo, str(parsed))
        return stored if stored is not None else await _pull(state, upstream, repo, str(parsed), None)
    tag = parsed
    driver = state.registry.driver
    stored = await offload.storage(_local_tag, repo, tag)
    if stored is not None and await offload.storage(freshness.is_fresh, driver, name, tag, upstream.ttl):
        return stored
    try:
        digest = await offload.slow(upstream.head_manifest, name, tag)
    except UpstreamUnavailable as exc:
        if stored is None:
            raise
        count("stale_tag")
        log.warning("%s:%s served from its last known value %s: %s", name, tag, stored.digest, exc.message)
        return stored
    if stored is not None and stored.digest == digest:
        await offload.storage(freshness.mark_checked, driver, name, tag)
        return stored
    known = await offload.storage(_local, repo, digest)
    if known is not None:  # a revision already here: only the tag moves
        async with claimed(state, name, ("tags", tag)):
            await offload.storage(repo.tags.tag, tag, digest)
            await offload.storage(freshness.mark_checked, driver, name, tag)
        return known
    return await _pull(state, upstream, repo, digest, tag)
