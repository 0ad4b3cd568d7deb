"""Manifests: read by tag or digest, store (and tag) under claims, delete with the tags that point at it.

Claims are taken in one global order, a manifest revision's before a tag's, so no two requests deadlock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from registry_impl.digests import Digest, digest_of
from registry_impl.errors import DigestInvalid, ManifestUnknown, TagInvalid
from registry_impl.manifests import ParsedManifest
from registry_impl.references import parse_reference, validate_tag
from registry_impl.services import events
from registry_impl.services.claims import claimed
from registry_impl.services.proxied import refuse_proxied
from registry_impl.services.state import State
from registry_impl.storage.blobclaims import BlobBusy
from registry_impl.storage.manifests import StoredManifest
from registry_impl.storage.registry import Registry

__all__ = ["Stored", "StoredManifest", "delete", "fetch", "put"]


@dataclass(frozen=True)
class Stored:
    """A manifest just stored: its digest and what it says."""

    digest: str
    manifest: ParsedManifest
    tags: tuple[str, ...] = ()  # the tag parameters applied


def _fetch(registry: Registry, name: str, reference: str) -> StoredManifest:
    repo = registry.repository(name)
    try:
        parsed = parse_reference(reference)
        digest = str(parsed) if isinstance(parsed, Digest) else repo.tags.resolve(parsed, cached=True)
    except (TagInvalid, DigestInvalid) as exc:
        # No manifest can have such a reference: on a read it is simply not there, as in distribution.
        raise ManifestUnknown(detail={"reference": reference}) from exc
    return repo.manifests.get(digest, recent_link=True)  # a read-only answer: links may come from memory


async def fetch(state: State, name: str, reference: str) -> StoredManifest:
    """The manifest a tag or digest names (``ManifestUnknown`` when there is none): one storage call."""
    manifest = None if state.proxy is None else await state.proxy.fetch_manifest(state, name, reference)
    if manifest is None:  # not a proxied repository
        manifest = await state.offload.storage(_fetch, state.registry, name, reference)
    if state.notifier is not None:
        await events.manifest_pulled(state, name, reference, manifest)
    return manifest


async def put(
    state: State,
    name: str,
    reference: str,
    read_body: Callable[[], Awaitable[bytes]],
    content_type: str,
    tags: Sequence[str] = (),
) -> Stored:
    """Store and tag a manifest while holding its revision's claim and the tag's: a concurrent delete of
    the same digest cannot unlink the revision between the link and the tag (no tag to nothing).

    ``tags`` (the ``tag`` parameters of a PUT by digest) are claimed too, in sorted order after the revision,
    and move together: all of them point at the manifest, or none moved. The body is read (``read_body``)
    only once the registry is writable and the reference and tags valid."""
    state.registry.require_writable()
    refuse_proxied(state, name)
    parsed_ref = parse_reference(reference)
    extra = sorted({validate_tag(t) for t in tags})
    if extra and not isinstance(parsed_ref, Digest):
        raise TagInvalid("tag parameters go with a PUT by digest", detail={"reference": reference})
    body = await read_body()
    repo = state.registry.repository(name)
    tag = None if isinstance(parsed_ref, Digest) else parsed_ref
    given = parsed_ref if isinstance(parsed_ref, Digest) else None
    offload = state.offload
    digest = str(given) if given is not None else await offload.sized(len(body), digest_of, body)
    claims = [("tags", t) for t in extra] if extra else [("tags", tag)]
    async with claimed(state, name, ("manifests", digest), *claims):
        store = partial(repo.manifests.put, body, content_type, tag, given, tags=extra)
        stored, parsed = await offload.claiming(len(body), store, BlobBusy)
    if state.notifier is not None:
        await events.manifest_pushed(state, name, stored, parsed, len(body), [tag, *extra])
    return Stored(stored, parsed, tuple(extra))


async def delete(state: State, name: str, reference: str) -> None:
    """By tag: the tag, under its claim. By digest: under the revision's claim (no PUT can point a tag at
    it meanwhile), each tag that points at it, under the tag's claim and only while it still does."""
    state.registry.require_delete()
    refuse_proxied(state, name)
    repo = state.registry.repository(name)
    parsed_ref = parse_reference(reference)
    offload = state.offload
    if not isinstance(parsed_ref, Digest):
        async with claimed(state, name, ("tags", parsed_ref)):
            await offload.storage(repo.tags.untag, parsed_ref)
        await events.tag_deleted(state, name, parsed_ref)
        return
    digest = str(parsed_ref)
    async with claimed(state, name, ("manifests", digest)):
        manifest = await offload.storage(repo.manifests.get, digest)  # ManifestUnknown before any tag
        pointing = await offload.storage(repo.tags.pointing_at, digest)
        for tag in pointing:
            async with claimed(state, name, ("tags", tag)):
                with contextlib.suppress(ManifestUnknown):
                    await offload.storage(partial(repo.tags.untag, tag, only_if=digest))
        await offload.sized(len(manifest.content), repo.manifests.delete, digest)  # parses it
    await events.manifest_deleted(state, name, digest, pointing)
