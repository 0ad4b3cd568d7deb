"""Offline garbage collection: distribution's mark and sweep over any storage driver.

Run it with the registry stopped or read-only: a push that lands between the mark and the sweep can lose its
blobs (nothing here takes the upload, tag or revision claims). :mod:`.onlinegc` collects while the registry
serves, on this mark.

Mark, repository by repository (all of it before anything is deleted, so an unreadable manifest aborts the run
with nothing changed):

- the roots are every manifest revision, or with ``delete_untagged`` only the revisions a tag's current link
  points at;
- a kept manifest keeps its own blob, the blobs it references (config, layers) and the blobs of the manifests it
  lists (index children); index children that are revisions of the same repository are kept as manifests too, so
  their layers survive (distribution 2.8.2 deletes an untagged child's revision and layers: its known bug);
- a manifest whose ``subject`` is a kept manifest of the same repository is kept (a signature, SBOM or other
  artifact lives as long as what it describes), recursively; a referrer never keeps its subject.

Sweep: with ``delete_untagged``, each manifest not kept loses its revision directory and its entry in every
tag's index (as distribution's ``RemoveManifest``); referrers entries that name no surviving revision are
removed, so the referrers API lists exactly the manifests that remain; then every blob not marked is deleted,
its ``_layers`` links first (distribution 2.8.2 leaves those links behind), then its directory in the blob
store. ``dry_run`` computes the same report and changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from registry_impl.errors import ManifestInvalid
from registry_impl.manifests import ParsedManifest, parse_manifest
from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.manifests import MEDIA_TYPE_FILE
from registry_impl.storage.registry import Registry

__all__ = ["LINK", "GCError", "GCReport", "collect_garbage", "links_under"]

log = logging.getLogger("registry.gc")
LINK = "/link"


class GCError(RuntimeError):
    """The mark phase met content it cannot read (nothing has been deleted)."""


@dataclass
class GCReport:
    """What the run deleted (or, with ``dry_run``, would delete); lists are sorted."""

    dry_run: bool
    marked: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)  # manifests read whose references are in ``marked``
    manifests: list[tuple[str, str]] = field(default_factory=list)  # (repository, digest)
    blobs: list[str] = field(default_factory=list)
    layer_links: list[tuple[str, str]] = field(default_factory=list)  # (repository, digest)
    referrers: list[tuple[str, str, str]] = field(default_factory=list)  # (repository, subject, referrer)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # revisions whose blob is missing
    stages: list[str] = field(default_factory=list)  # what writes that died left staged (driver paths)

    def lines(self) -> Iterator[str]:
        verb = "would delete" if self.dry_run else "deleted"
        for name, digest in self.unreadable:
            yield f"{name}: manifest {digest} has no content in the blob store (left as it is)"
        for name, digest in self.manifests:
            yield f"{name}: {verb} manifest {digest}"
        for name, subject, referrer in self.referrers:
            yield f"{name}: {verb} referrers entry {referrer} of {subject}"
        for name, digest in self.layer_links:
            yield f"{name}: {verb} layer link {digest}"
        for digest in self.blobs:
            yield f"{verb} blob {digest}"
        for path in self.stages:
            yield f"{verb} {path}: staged by a write that did not finish"
        yield (
            f"{len(self.marked)} blobs marked, {len(self.blobs)} blobs and {len(self.manifests)} manifests "
            f"{'eligible for deletion' if self.dry_run else 'deleted'}"
        )


@dataclass
class _Repo:
    name: str
    revisions: dict[str, ParsedManifest | None]  # None: the manifest's blob is missing
    tagged: set[str]


def links_under(driver: StorageDriver, root: str) -> Iterator[tuple[str, str]]:
    """(directory of the link, digest it holds) for every ``link`` file under ``root``."""
    try:
        entries = [info.path for info in driver.walk(root) if not info.is_dir and info.path.endswith(LINK)]
    except PathNotFoundError:
        return
    for path in entries:
        try:
            digest = driver.get_content(path).decode().strip()
        except PathNotFoundError:
            continue
        if ":" in digest:
            yield path[: -len(LINK)], digest


def _read(registry: Registry, name: str, digest: str) -> ParsedManifest | None:
    driver = registry.driver
    try:
        content = driver.get_content(paths.blob_data_path(digest))
    except PathNotFoundError:
        return None  # any other storage failure aborts the run before the sweep
    try:
        content_type = driver.get_content(
            paths.manifest_revision_path(name, digest) + "/" + MEDIA_TYPE_FILE
        ).decode()
    except PathNotFoundError:
        content_type = ""
    try:
        return parse_manifest(content, content_type, bounded=False)
    except ManifestInvalid as exc:
        raise GCError(f"{name}: manifest {digest} is not a manifest this registry reads: {exc}") from exc


def _load(registry: Registry, name: str) -> _Repo:
    driver = registry.driver
    revisions = {
        digest: _read(registry, name, digest)
        for _, digest in links_under(driver, paths.manifest_revisions_root(name))
    }
    tagged = set()
    for tag in registry.repository(name).tags.all():
        with contextlib.suppress(PathNotFoundError):
            tagged.add(driver.get_content(paths.tag_current_link_path(name, tag)).decode().strip())
    return _Repo(name, revisions, tagged)


def _keep(repo: _Repo, delete_untagged: bool) -> set[str]:
    """The revisions of ``repo`` that survive: the roots, their index children and referrers, transitively."""
    referrers: dict[str, list[str]] = {}
    for digest, parsed in repo.revisions.items():
        if parsed is not None and parsed.subject is not None:
            referrers.setdefault(parsed.subject.digest, []).append(digest)
    roots = repo.tagged if delete_untagged else set(repo.revisions)
    pending = [d for d in roots if d in repo.revisions]
    kept: set[str] = set()
    while pending:
        digest = pending.pop()
        if digest in kept:
            continue
        kept.add(digest)
        parsed = repo.revisions[digest]
        children = [d.digest for d in parsed.manifests] if parsed is not None else []
        pending.extend(d for d in children + referrers.get(digest, []) if d in repo.revisions)
    return kept


def collect_garbage(registry: Registry, *, dry_run: bool = False, delete_untagged: bool = False) -> GCReport:
    """Mark every repository, then sweep (see the module docstring); returns what went."""
    driver = registry.driver
    report = GCReport(dry_run=dry_run)
    repos = [_load(registry, name) for name in registry.repositories()]
    doomed: dict[str, set[str]] = {}
    for repo in repos:
        kept = _keep(repo, delete_untagged)
        doomed[repo.name] = set(repo.revisions) - kept
        report.unreadable += [(repo.name, d) for d, p in repo.revisions.items() if p is None]
        for digest in kept:
            parsed = repo.revisions[digest]
            if parsed is None:
                continue
            report.marked.add(digest)
            report.kept.add(digest)
            report.marked.update(d.digest for d in (*parsed.blobs, *parsed.manifests))
        report.manifests += [(repo.name, d) for d in doomed[repo.name]]
        report.referrers += _stale_referrers(driver, repo.name, set(repo.revisions) - doomed[repo.name])
    report.blobs = sorted(digest for _, digest in _blob_digests(driver) if digest not in report.marked)
    swept = set(report.blobs)
    for repo in repos:
        report.layer_links += [
            (repo.name, d) for _, d in links_under(driver, paths.layers_root(repo.name)) if d in swept
        ]
    report.manifests.sort()
    report.referrers.sort()
    report.layer_links.sort()
    report.unreadable.sort()
    if not dry_run:
        _sweep(registry, report)
    report.stages = driver.sweep_stages(dry_run=dry_run)
    return report


def _stale_referrers(driver: StorageDriver, name: str, surviving: set[str]) -> list[tuple[str, str, str]]:
    root = f"{paths.repository_root(name)}/_referrers"
    stale = []
    for directory, referrer in links_under(driver, root):
        if referrer in surviving:
            continue
        subject_dir = directory[len(root) + 1 :].split("/")
        # <alg>/<subject hex>/<alg>/<hex>: the subject is the first half of the components
        half = len(subject_dir) // 2
        subject = ":".join(["/".join(subject_dir[: half - 1]), subject_dir[half - 1]])
        stale.append((name, subject, referrer))
    return stale


def _blob_digests(driver: StorageDriver) -> Iterator[tuple[str, str]]:
    """(directory, digest) of every blob in the blob store (``blobs/<alg>/<2>/<hex>/data``)."""
    root = paths.blobs_root()
    try:
        entries = [info.path for info in driver.walk(root) if not info.is_dir and info.path.endswith("/data")]
    except PathNotFoundError:
        return
    for path in entries:
        parts = path[len(root) + 1 : -len("/data")].split("/")
        if len(parts) >= 3:
            yield path[: -len("/data")], f"{'/'.join(parts[:-2])}:{parts[-1]}".replace("/", "+")


def _delete(driver: StorageDriver, path: str) -> None:
    with contextlib.suppress(PathNotFoundError):
        driver.delete(path)


def _sweep(registry: Registry, report: GCReport) -> None:
    """Manifests first, then referrers entries, layer links and blobs: a crash leaves no link to a lost blob
    that was not already there, and the next run finishes the job."""
    driver = registry.driver
    for name, digest in report.manifests:
        log.info("%s: deleting manifest %s", name, digest)
        for tag in registry.repository(name).tags.all():
            _delete(driver, paths.tag_index_entry_path(name, tag, digest))
        _delete(driver, paths.manifest_revision_path(name, digest))
    for name, subject, referrer in report.referrers:
        _delete(driver, paths.referrer_link_path(name, subject, referrer)[: -len(LINK)])
    for name, digest in report.layer_links:
        _delete(driver, paths.layer_link_path(name, digest)[: -len(LINK)])
        registry.repository(name).blobs.invalidate(digest)
    for digest in report.blobs:
        log.info("deleting blob %s", digest)
        _delete(driver, paths.blob_path(digest))
        registry.blobs.invalidate(digest)
