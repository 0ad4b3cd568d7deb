"""Stored bytes per repository: what each repository links (layers and manifests), the part only it links and
the part it shares with others — a question distribution cannot answer.

Blobs are stored once (``blobs/<alg>/<2>/<hex>/data``) and linked into repositories (``_layers/.../link``,
``_manifests/revisions/.../link``), so a repository's bytes are the sizes of the distinct blobs it links; a blob
linked by one repository only is *unique* to it (deleting the repository and collecting garbage frees it), one
linked by several is *shared*. Sizes come from one walk of the blob store (a listing on S3, no reads); a
link's digest is read from its path, as the layout spells it. Read-only, safe beside a running registry (the
figures are those of the moment each directory was listed).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.registry import Registry

__all__ = ["REPORT_PATH", "RepositoryUsage", "UsageReport", "human", "load_report", "measure", "save_report"]

LINK = "/link"
DATA = "/data"
# OUR addition, beside _claims: the last report `registry usage --save` stored, for the web UI to show.
REPORT_PATH = f"{paths.ROOT}/_usage/report.json"


@dataclass(frozen=True)
class RepositoryUsage:
    """One repository: ``size`` = ``unique`` + ``shared`` bytes over ``blobs`` distinct blobs; ``missing``
    counts links whose blob is not in the blob store (they add no bytes)."""

    name: str
    blobs: int
    size: int
    unique: int
    shared: int
    missing: int = 0


@dataclass(frozen=True)
class UsageReport:
    """Every repository, plus the totals: ``linked`` bytes of distinct blobs any repository links (each counted
    once), of which ``shared`` are linked by two or more; ``stored`` bytes of the whole blob store, of which
    ``unlinked`` no repository links (what ``registry garbage-collect`` can free at least)."""

    repositories: tuple[RepositoryUsage, ...]
    linked: int
    shared: int
    stored: int
    unlinked: int

    def lines(self) -> Iterator[str]:
        """A table, one row per repository, then the totals (sizes in IEC units)."""
        rows = [("REPOSITORY", "BLOBS", "SIZE", "UNIQUE", "SHARED")]
        rows += [
            (r.name, str(r.blobs), human(r.size), human(r.unique), human(r.shared)) for r in self.repositories
        ]
        width = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            yield "  ".join(
                [row[0].ljust(width[0]), *(v.rjust(w) for v, w in zip(row[1:], width[1:], strict=True))]
            )
        missing = sum(r.missing for r in self.repositories)
        yield (
            f"{len(self.repositories)} repositories link {human(self.linked)} "
            f"({human(self.linked - self.shared)} unique to one, {human(self.shared)} shared); "
            f"blob store {human(self.stored)}, {human(self.unlinked)} linked by no repository"
            + (f"; {missing} links name a missing blob" if missing else "")
        )

    def as_json(self) -> dict[str, object]:
        return {
            "repositories": [vars(repo) for repo in self.repositories],
            "totals": {
                "repositories": len(self.repositories),
                "linked": self.linked,
                "unique": self.linked - self.shared,
                "shared": self.shared,
                "stored": self.stored,
                "unlinked": self.unlinked,
            },
        }


def save_report(driver: StorageDriver, report: UsageReport) -> None:
    """Store ``report`` (its JSON form and when it was measured) where ``load_report`` finds it."""
    document = {**report.as_json(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    driver.put_content(REPORT_PATH, json.dumps(document).encode())


def load_report(driver: StorageDriver) -> dict[str, object] | None:
    """The last stored report, or None when ``registry usage --save`` never ran (or wrote something else)."""
    try:
        document = json.loads(driver.get_content(REPORT_PATH))
    except (PathNotFoundError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def human(size: int) -> str:
    """``size`` bytes in IEC units: ``512 B``, ``1.5 KiB``, ``3.0 GiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def measure(registry: Registry) -> UsageReport:
    """Walk the storage of ``registry`` once and account every repository's blobs."""
    driver = registry.driver
    sizes = dict(_blob_sizes(driver))
    linked = {name: set(_linked_digests(driver, name)) for name in registry.repositories()}
    owners = Counter(digest for digests in linked.values() for digest in digests)
    repositories = tuple(_repository(name, digests, sizes, owners) for name, digests in linked.items())
    everything = {digest for digests in linked.values() for digest in digests}
    return UsageReport(
        repositories=repositories,
        linked=sum(sizes.get(d, 0) for d in everything),
        shared=sum(sizes.get(d, 0) for d in everything if owners[d] > 1),
        stored=sum(sizes.values()),
        unlinked=sum(size for digest, size in sizes.items() if digest not in everything),
    )


def _repository(name: str, digests: set[str], sizes: dict[str, int], owners: Counter[str]) -> RepositoryUsage:
    present = [d for d in digests if d in sizes]
    unique = sum(sizes[d] for d in present if owners[d] == 1)
    shared = sum(sizes[d] for d in present if owners[d] > 1)
    return RepositoryUsage(name, len(present), unique + shared, unique, shared, len(digests) - len(present))


def _walk_files(driver: StorageDriver, root: str, suffix: str) -> Iterator[tuple[str, int]]:
    """(path without ``suffix``, size) of every file under ``root`` whose path ends with ``suffix``."""
    try:
        for info in driver.walk(root):
            if not info.is_dir and info.path.endswith(suffix):
                yield info.path[: -len(suffix)], info.size
    except PathNotFoundError:
        return


def _digest_of(directory: str, root: str, levels: int) -> str | None:
    """The digest a ``<alg...>/[<2>/]<hex>`` directory under ``root`` names (``levels``: 2 without the
    two-character fan-out, 3 with it); distribution's ``/`` in an algorithm name is its ``+``."""
    parts = directory[len(root) + 1 :].split("/")
    if len(parts) < levels or not parts[-1]:
        return None
    return f"{'+'.join(parts[: len(parts) - levels + 1])}:{parts[-1]}"


def _blob_sizes(driver: StorageDriver) -> Iterator[tuple[str, int]]:
    root = paths.blobs_root()
    for directory, size in _walk_files(driver, root, DATA):
        digest = _digest_of(directory, root, 3)
        if digest is not None:
            yield digest, size


def _linked_digests(driver: StorageDriver, name: str) -> Iterator[str]:
    for root in (paths.layers_root(name), paths.manifest_revisions_root(name)):
        for directory, _ in _walk_files(driver, root, LINK):
            digest = _digest_of(directory, root, 2)
            if digest is not None:
                yield digest
