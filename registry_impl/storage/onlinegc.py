"""Online garbage collection: mark and sweep while the registry serves pushes, with no read-only window.

The mark is the offline one (:func:`.gc.collect_garbage` as a dry run). The sweep then deletes only what is
still garbage at the moment it goes, re-checked under the claims the writers take:

1. with ``delete_untagged``, each unmarked manifest revision, under that revision's claim (the one a manifest
   PUT and DELETE hold), only if no tag's current link names it now; its stale referrers entries likewise;
2. each unmarked blob whose data is older than the grace period, in batches: the batch's blob claims are
   taken (a busy one is skipped, GC never waits), then every repository's revisions are listed again and
   each revision the mark did not read (pushed or re-linked since) is read and its references marked; a
   blob goes only if it is still unmarked, its data still older than the grace period and none of its
   ``_layers`` links younger than it; its links go first, then its data.

Why no acknowledged push loses a blob. A push is acknowledged by its manifest PUT (201); the blobs an image
needs are the manifest's own blob and the blobs and child manifests it references. The PUT holds the claim
of each of those blobs (:mod:`.blobclaims`) from its check, in storage, that each is linked and has data,
until its revision link is written. GC deletes a blob only under the same claim. So for each blob B of the
image, one of the two held B's claim first:

- the PUT: when it released the claim the revision link was written; GC takes B's claim after that and
  only then lists the revisions again, so it reads the new manifest and B is marked: kept;
- GC: it deleted B (or not) and released; the PUT then finds B missing and answers 400 MANIFEST_BLOB_UNKNOWN,
  nothing is acknowledged.

A manifest revision is deleted only under its revision claim and only while no tag names it; a PUT that tags
it holds the same claim, so it either re-creates the revision after GC (its blobs protected as above) or
tags it before GC looks, and GC then keeps it. A blob pushed but not yet referenced (upload completed, or
mounted) is protected for the grace period: an upload completion and a mount hold the blob's claim while they
write its data (a fresh mtime) or its layer link (written anew, a fresh mtime), and GC keeps a blob whose data
or any layer link is younger than the grace period. A client has the grace period to reference it in a
manifest; after that a blob referenced by nothing is garbage, as offline. Storage answers every re-check
(never a cache another process filled), and the ``_gc`` claim lets one collection run at a time.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from registry_impl.errors import ManifestInvalid
from registry_impl.manifests import parse_manifest
from registry_impl.storage import paths
from registry_impl.storage.blobclaims import BLOB_CLAIM_TTL
from registry_impl.storage.cache.base import NoCache
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.driver.claims import Claim, ClaimLost
from registry_impl.storage.gc import LINK, GCReport, collect_garbage, links_under
from registry_impl.storage.manifests import MEDIA_TYPE_FILE
from registry_impl.storage.registry import Registry

__all__ = ["GCBusy", "collect_garbage_online"]

log = logging.getLogger("registry.gc")
#: Blobs re-checked per listing of the revisions.
BATCH = 64
_RUN_TTL = 60.0
_REVISION_TTL = 10.0
CURRENT = "/current"


class GCBusy(RuntimeError):
    """Another online collection holds this storage's GC claim."""


def collect_garbage_online(
    registry: Registry,
    *,
    grace: timedelta,
    dry_run: bool = False,
    delete_untagged: bool = False,
    wait: float = 0.0,
) -> GCReport:
    """Collect while writers write (module docstring); returns what went (or would go, with ``dry_run``).

    Waits up to ``wait`` seconds for a collection in progress to end (:class:`GCBusy` after that).
    ``registry`` should have no blob cache (``NoCache()``): every decision is taken on storage."""
    driver = registry.driver
    deadline = time.monotonic() + wait
    while (run := driver.try_claim(paths.gc_claim_path(), _RUN_TTL)) is None:
        if time.monotonic() >= deadline:
            raise GCBusy("another garbage collection is running against this storage")
        time.sleep(0.2)
    with run:
        plan = collect_garbage(registry, dry_run=True, delete_untagged=delete_untagged)
        return _Sweep(registry, plan, grace, dry_run, run).run()


class _Sweep:
    def __init__(
        self, registry: Registry, plan: GCReport, grace: timedelta, dry_run: bool, run: Claim
    ) -> None:
        self.registry, self.driver, self.plan, self.run_claim = registry, registry.driver, plan, run
        self.grace, self.dry_run = grace, dry_run
        self.report = GCReport(dry_run=dry_run, marked=set(plan.marked), kept=set(plan.kept))
        self.report.unreadable = plan.unreadable

    def run(self) -> GCReport:
        for name, digest in self.plan.manifests:
            self._manifest(name, digest)
        for name, subject, referrer in self.plan.referrers:
            self._referrer(name, subject, referrer)
        old = [d for d in self.plan.blobs if self._old(paths.blob_data_path(d))]
        for start in range(0, len(old), BATCH):
            with contextlib.suppress(
                ClaimLost
            ):  # only one run at a time is a courtesy; the blob claims are safety
                self.run_claim.renew()
            self._blobs(old[start : start + BATCH])
        for field_ in (
            self.report.manifests,
            self.report.referrers,
            self.report.layer_links,
            self.report.blobs,
        ):
            field_.sort()
        self.report.stages = self.driver.sweep_stages(dry_run=self.dry_run)
        return self.report

    # ---- manifests and referrers (delete_untagged) ----

    def _revision_claim(self, name: str, digest: str) -> Claim | None:
        return self.driver.try_claim(paths.claim_path("manifests", name, digest), _REVISION_TTL)

    def _manifest(self, name: str, digest: str) -> None:
        claim = self._revision_claim(name, digest)
        if claim is None:
            return  # a PUT or DELETE of it is under way: not garbage this run
        with claim:
            if digest in self._tagged(name):
                return
            self.report.manifests.append((name, digest))
            if self.dry_run:
                return
            log.info("%s: deleting manifest %s", name, digest)
            for tag in self._tags(name):
                _delete(self.driver, paths.tag_index_entry_path(name, tag, digest))
            _delete(self.driver, paths.manifest_revision_path(name, digest))

    def _referrer(self, name: str, subject: str, referrer: str) -> None:
        claim = self._revision_claim(name, referrer)
        if claim is None:
            return
        with claim:
            if _exists(self.driver, paths.manifest_revision_link_path(name, referrer)):
                return
            self.report.referrers.append((name, subject, referrer))
            if not self.dry_run:
                _delete(self.driver, paths.referrer_link_path(name, subject, referrer)[: -len(LINK)])

    def _current(self, name: str) -> Iterator[tuple[str, str]]:
        """(tag, digest its current link names now), read from storage."""
        root = paths.tags_root(name)
        for directory, digest in links_under(self.driver, root):
            if directory.endswith(CURRENT) and "/" not in directory[len(root) + 1 : -len(CURRENT)]:
                yield directory[len(root) + 1 : -len(CURRENT)], digest

    def _tagged(self, name: str) -> set[str]:
        return {digest for _, digest in self._current(name)}

    def _tags(self, name: str) -> list[str]:
        return [tag for tag, _ in self._current(name)]

    # ---- blobs ----

    def _blobs(self, batch: list[str]) -> None:
        with contextlib.ExitStack() as held:
            claims: dict[str, Claim] = {}
            for digest in batch:
                claim = self.driver.try_claim(paths.blob_claim_path(digest), BLOB_CLAIM_TTL)
                if claim is not None:  # busy: a writer is adopting it, not garbage this run
                    held.enter_context(claim)
                    claims[digest] = claim
            repositories = self._repositories()
            self._mark_new_revisions(repositories, lambda: _keep(claims))
            for digest in list(claims):
                # a lease (S3) that lapsed may have let a manifest PUT in that the re-check did not read: kept
                if (
                    digest not in self.report.marked
                    and self._old(paths.blob_data_path(digest))
                    and _keep({digest: claims[digest]})
                ):
                    self._blob(digest, repositories)

    def _repositories(self) -> list[str]:
        """Every repository now, listed by storage (the registry's listing cache may predate a new one)."""
        return Registry(self.driver, cache=NoCache()).repositories()

    def _mark_new_revisions(self, repositories: list[str], renew: Callable[[], object]) -> None:
        """Read every revision the mark did not and mark what it references (pushed or rescued since);
        ``renew`` is called between repositories (the batch's blob claims are leases on S3: a listing of
        many repositories outlasts one)."""
        for name in repositories:
            renew()
            for _, digest in links_under(self.driver, paths.manifest_revisions_root(name)):
                if digest in self.report.kept:
                    continue
                try:
                    content = self.driver.get_content(paths.blob_data_path(digest))
                    media_type = _media_type(self.driver, name, digest)
                    parsed = parse_manifest(content, media_type, bounded=False)
                except (PathNotFoundError, ManifestInvalid):
                    self.report.marked.add(digest)  # unreadable: keep what it may be, as offline does
                    continue
                self.report.kept.add(digest)
                self.report.marked.add(digest)
                self.report.marked.update(d.digest for d in (*parsed.blobs, *parsed.manifests))

    def _blob(self, digest: str, repositories: list[str]) -> None:
        links = []
        for name in repositories:
            path = paths.layer_link_path(name, digest)
            try:
                info = self.driver.stat(path)
            except PathNotFoundError:
                continue
            if not self._older(info.mod_time):
                return  # linked by a push within the grace period
            links.append(name)
        self.report.blobs.append(digest)
        self.report.layer_links += [(name, digest) for name in links]
        if self.dry_run:
            return
        log.info("deleting blob %s", digest)
        for name in links:
            _delete(self.driver, paths.layer_link_path(name, digest)[: -len(LINK)])
            self.registry.repository(name).blobs.invalidate(digest)
        _delete(self.driver, paths.blob_path(digest))
        self.registry.blobs.invalidate(digest)

    def _old(self, path: str) -> bool:
        try:
            return self._older(self.driver.stat(path).mod_time)
        except PathNotFoundError:
            return False

    def _older(self, mod_time: datetime) -> bool:
        return mod_time < datetime.now(UTC) - self.grace


def _keep(claims: dict[str, Claim]) -> bool:
    """Renew each claim that is due (a lease's renewal is a request every third of its life, a check
    otherwise); the ones lost are dropped from ``claims``. Whether all of them are still held."""
    kept = True
    for digest, claim in list(claims.items()):
        if not claim.still_held():
            log.info("blob %s: its claim lapsed during the re-check; kept this run", digest)
            del claims[digest]
            kept = False
    return kept


def _media_type(driver: StorageDriver, name: str, digest: str) -> str:
    try:
        return driver.get_content(paths.manifest_revision_path(name, digest) + "/" + MEDIA_TYPE_FILE).decode()
    except PathNotFoundError:
        return ""


def _exists(driver: StorageDriver, path: str) -> bool:
    try:
        driver.stat(path)
    except PathNotFoundError:
        return False
    return True


def _delete(driver: StorageDriver, path: str) -> None:
    with contextlib.suppress(PathNotFoundError):
        driver.delete(path)
