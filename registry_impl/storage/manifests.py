"""Manifests of one repository: bytes in the blob store, revisions linked under ``_manifests``."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from registry_spec import mediatypes as mt
from registry_spec.protocol.descriptors import Descriptor

from registry_impl import schema1
from registry_impl.digests import Digest, digest_of
from registry_impl.errors import (
    BlobUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    ManifestUnverified,
)
from registry_impl.manifests import ParsedManifest, SparseRules, URLRules, detect_media_type, parse_manifest
from registry_impl.schema1 import Schema1Policy
from registry_impl.storage import paths
from registry_impl.storage.blobclaims import BLOB_CLAIM_WAIT, blobs_claimed
from registry_impl.storage.blobs import BlobStore, LinkSet, RepositoryBlobs
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.manifestcache import ByteBoundedLRU
from registry_impl.storage.referrers import ReferrerStore
from registry_impl.storage.tags import TagStore

MEDIA_TYPE_FILE = "mediatype"
SIGNED_FILE = "prettyjws"  # a schema 1 manifest as it was pushed, signatures included
log = logging.getLogger("registry.storage")


@dataclass(frozen=True)
class StoredManifest:
    digest: str
    content: bytes
    media_type: str


class ManifestStore:
    def __init__(
        self,
        driver: StorageDriver,
        store: BlobStore,
        name: str,
        blobs: RepositoryBlobs,
        tags: TagStore,
        referrers: ReferrerStore,
        cache: ByteBoundedLRU[StoredManifest] | None = None,
        *,
        url_rules: URLRules | None = None,
        sparse: SparseRules | None = None,
        schema1_policy: Schema1Policy | None = None,
    ) -> None:
        self.schema1 = schema1_policy or Schema1Policy()
        self.url_rules = url_rules or URLRules()
        self.sparse = sparse or SparseRules()
        self.cache = cache
        self.driver = driver
        self.store = store
        self.name = name
        self.blobs = blobs
        self.tags = tags
        self.referrers = referrers
        self.revisions = LinkSet(driver, lambda digest: paths.manifest_revision_link_path(name, digest))

    def exists(self, digest: str) -> bool:
        return self.revisions.linked(digest) and self.store.stat(digest) is not None

    def get(self, digest: str, *, recent_link: bool = False) -> StoredManifest:
        """The manifest linked here; ``recent_link``: the revision link read as ``LinkSet.linked(cached=True)``."""
        if not self.revisions.linked(digest, cached=recent_link):
            raise ManifestUnknown(detail={"digest": digest})
        key = (self.name, digest)
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            return cached
        try:
            content = self.store.get(digest)
        except BlobUnknown as exc:
            raise ManifestUnknown(detail={"digest": digest}) from exc
        if digest_of(content, digest.split(":", 1)[0]) != digest:
            # Bytes that do not hash to their digest are never served (storage corrupted under us).
            log.error("manifest %s in %s: stored bytes do not match the digest", digest, self.name)
            raise ManifestUnknown(detail={"digest": digest})
        manifest = StoredManifest(digest, content, self._media_type(digest, content))
        if manifest.media_type == mt.DOCKER_SCHEMA1_SIGNED:
            manifest = StoredManifest(digest, self._signed(digest, content), manifest.media_type)
        if self.cache is not None:
            self.cache.put(key, manifest, len(content))
        return manifest

    def _media_type(self, digest: str, content: bytes) -> str:
        """The top-level ``mediaType``; else the side file written at PUT; else a guess from the shape."""
        try:
            document = json.loads(content)
        except ValueError:
            return "application/json"
        if not isinstance(document, dict):
            return "application/json"
        declared = document.get("mediaType")
        if isinstance(declared, str) and declared:
            return declared
        try:
            return self.driver.get_content(self._media_type_path(digest)).decode()
        except PathNotFoundError:
            pass
        try:
            return detect_media_type(document, "")
        except ManifestInvalid:
            return "application/json"

    def _signed(self, digest: str, payload: bytes) -> bytes:
        """A schema 1 manifest as served: the signed bytes pushed here, else (one an older registry stored
        without its signatures) the payload signed by this registry's key, as distribution serves it."""
        try:
            pushed = self.driver.get_content(self._signed_path(digest))
            if schema1.payload_of(pushed)[0] == payload:
                return pushed
        except (PathNotFoundError, ManifestInvalid, ManifestUnverified):
            pass
        return schema1.sign_payload(payload, self.schema1.key)

    def _signed_path(self, digest: str) -> str:
        return paths.manifest_revision_path(self.name, digest) + "/" + SIGNED_FILE

    def _media_type_path(self, digest: str) -> str:
        return paths.manifest_revision_path(self.name, digest) + "/" + MEDIA_TYPE_FILE

    def put(
        self,
        content: bytes,
        content_type: str,
        tag: str | None,
        digest: Digest | None,
        tags: Sequence[str] = (),
        claim_wait: float = BLOB_CLAIM_WAIT,
    ) -> tuple[str, ParsedManifest]:
        """Validate and store a manifest, optionally tagging it (``tag``, and every one of ``tags``: all of them
        or, when a write fails, none moved); returns its digest and what it says. ``claim_wait``: how long to
        wait for a blob claim another holder has (``BlobBusy`` after it, before anything is written)."""
        parsed = parse_manifest(content, content_type)
        signed = None
        if parsed.media_type == mt.DOCKER_SCHEMA1_SIGNED:
            signed, content = content, self._schema1_payload(content)
        self.url_rules.check(parsed)
        actual = digest_of(content, digest.algorithm if digest else "sha256")
        if digest is not None and actual != str(digest):
            raise DigestInvalid(
                "manifest digest did not match", detail={"digest": str(digest), "actual": actual}
            )
        required = (*self.sparse.required_blobs(parsed), *self.sparse.required_children(parsed))
        referenced = [d.digest for d in required]
        # Online GC deletes a blob only under its claim: from the check that the references exist until the
        # revision link is written, none of them (nor the manifest's own blob) can go (see .blobclaims).
        with blobs_claimed(self.driver, [actual, *referenced], claim_wait) as held:
            self._check_references(parsed, required)
            self.store.put(content, digest.algorithm if digest else "sha256")
            if signed is not None:  # served back byte for byte; the blob is the payload, as distribution's
                self.driver.put_content(self._signed_path(actual), signed)
            if not parsed.declares_media_type:
                self.driver.put_content(self._media_type_path(actual), parsed.media_type.encode())
            self.revisions.link(actual)
            held.confirm()
        if parsed.subject is not None:
            self.referrers.add(parsed.subject.digest, actual)
        self._tag_all([*([tag] if tag is not None else []), *tags], actual)
        return actual, parsed

    def _schema1_payload(self, content: bytes) -> bytes:
        """The payload of a pushed schema 1 manifest once its signatures verify (refused unless enabled)."""
        if not self.schema1.enabled:
            raise ManifestInvalid(
                "schema1 manifests are refused: compatibility.schema1.enabled is off",
                detail={"mediaType": mt.DOCKER_SCHEMA1_SIGNED},
            )
        return schema1.parse_signed(content).payload

    def _tag_all(self, tags: Sequence[str], digest: str) -> None:
        """Point every tag at ``digest``; if one write fails, the tags already moved go back to where they were
        (or away, if they were new), so a request's tags move together. The caller holds every tag's claim."""
        moved: list[tuple[str, str | None]] = []
        try:
            for tag in tags:
                try:
                    before: str | None = self.tags.resolve(tag)
                except ManifestUnknown:
                    before = None
                moved.append((tag, before))
                self.tags.tag(tag, digest)
        except BaseException:
            for tag, before in reversed(moved):
                with contextlib.suppress(Exception):
                    if before is None:
                        self.tags.untag(tag, only_if=digest)
                    else:
                        self.tags.tag(tag, before)
            raise

    def _check_references(self, parsed: ParsedManifest, required: tuple[Descriptor, ...]) -> None:
        """Every required reference (all of them, unless ``validation`` allows sparse manifests) linked here
        with its data in storage (not the cache's word: online GC may have deleted a blob another process
        cached)."""
        wanted = {d.digest for d in required}
        blobs = [d.digest for d in parsed.blobs if d.digest in wanted]
        children = [d.digest for d in parsed.manifests if d.digest in wanted]
        missing = [digest for digest in blobs if not self._stored(digest, self.blobs.links)]
        missing += [digest for digest in children if not self._stored(digest, self.revisions)]
        for digest in missing:
            self.blobs.invalidate(digest)
        if missing:
            raise ManifestBlobUnknown(
                "manifest references unknown blobs or manifests",
                detail=[{"digest": digest} for digest in dict.fromkeys(missing)],
            )

    def _stored(self, digest: str, links: LinkSet) -> bool:
        return links.linked(digest) and self.store.stat_storage(digest) is not None

    def delete(self, digest: str) -> None:
        """Delete a revision, every tag pointing at it, and its referrers entry."""
        manifest = self.get(digest)
        try:
            parsed: ParsedManifest | None = parse_manifest(
                manifest.content, manifest.media_type, bounded=False
            )
        except ManifestInvalid:
            parsed = None
        for tag in self.tags.pointing_at(digest):
            with contextlib.suppress(ManifestUnknown):
                self.tags.untag(tag, only_if=digest)
        self.revisions.unlink(digest)
        # Distribution caches manifests as repository blobs: keep a cache shared with it true.
        self.blobs.invalidate(digest)
        if parsed is not None and parsed.subject is not None:
            self.referrers.remove(parsed.subject.digest, digest)
