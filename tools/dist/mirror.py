"""``dist sync`` and ``dist copy --all-tags``: mirror repositories tag by tag, skipping what is there by digest.

Each tag is compared by digest first (two HEADs); a tag already pointing at the source's digest is left alone, so a
second run transfers nothing and an interrupted run resumes where it stopped. A tag to copy is copied by digest
(every platform of an index, then its referrers unless ``--no-referrers``) and tagged last: a tag at the
destination always names a complete image. Tags are copied ``--parallel`` at a time, each with ``--jobs`` blob
transfers. A repository list comes from a YAML file::

    repositories:
      - library/alpine                      # every tag
      - name: team/app
        tags: 'v\\d+\\.\\d+'                  # tags matching this regex (whole tag)
        destination: mirror/app             # another name at the destination
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry_client import RegistryClient, RegistryError
from registry_client.references import parse_reference

from .commands import copy_with_referrers, wants_referrers
from .context import Context
from .copy import Selection
from .progress import Progress, human_size
from .stores import RegistryStore, StoreError

__all__ = ["REFERRER_TAG", "Job", "cmd_sync", "copy_all_tags", "load_jobs"]

#: Tags that name referrers rather than images: the OCI tag schema's and cosign's (``sha256-<hex>[.sig|.att|.sbom]``).
REFERRER_TAG = re.compile(r"sha256-[0-9a-f]{64}(\.(sig|att|sbom))?")


@dataclass(frozen=True)
class Job:
    """One repository to mirror: its name at each end and the tag filter (a regex matching whole tags)."""

    source: str
    destination: str
    tags: str | None = None


@dataclass
class Summary:
    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    referrers: int = 0
    bytes: int = 0
    #: Per destination repository and digest: copied by this run (tags of one image copy it once).
    images: dict[tuple[str, str], threading.Lock] = field(default_factory=dict, repr=False)
    complete: set[tuple[str, str]] = field(default_factory=set, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_json(self, source: str, destination: str, seconds: float) -> dict[str, Any]:
        return {
            "source": source,
            "destination": destination,
            "tags": {
                "copied": len(self.copied),
                "unchanged": len(self.unchanged),
                "failed": len(self.failed),
            },
            "copied": sorted(self.copied),
            "failures": self.failed,
            "referrers": self.referrers,
            "bytes": self.bytes,
            "seconds": round(seconds, 3),
        }


def load_jobs(path: Path) -> list[Job]:
    try:
        import yaml
    except ImportError as exc:
        raise StoreError("--file needs PyYAML: pip install 'pydistribution[dist]'") from exc
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise StoreError(f"{path}: not YAML: {exc}") from exc
    entries = document.get("repositories") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise StoreError(f"{path}: expected a 'repositories' list")
    jobs = []
    for entry in entries:
        if isinstance(entry, str):
            jobs.append(Job(entry, entry))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            name = entry["name"]
            jobs.append(Job(name, str(entry.get("destination") or name), entry.get("tags")))
        else:
            raise StoreError(f"{path}: each repository is a name or a mapping with 'name'")
    return jobs


def _matcher(pattern: str | None) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern) if pattern else None
    except re.error as exc:
        raise StoreError(f"tag filter {pattern!r}: {exc}") from exc


def _current(client: RegistryClient, repository: str, tag: str) -> str | None:
    try:
        return client.manifests.resolve(repository, tag).digest
    except RegistryError as exc:
        if exc.status == 404:
            return None
        raise


class Mirror:
    """Copies the tags of one repository from one registry to another."""

    def __init__(
        self, ctx: Context, source: RegistryStore, destination: RegistryStore, summary: Summary
    ) -> None:
        self.ctx, self.source, self.destination, self.summary = ctx, source, destination, summary
        self.progress = ctx.progress()

    def tags(self, pattern: str | None) -> list[str]:
        """The tags to copy; with referrers on, not the tag-schema and cosign tags: they follow their subjects."""
        matcher = _matcher(pattern)
        found = self.source.client.tags.list(self.source.ref.repository)
        skip = wants_referrers(self.ctx.args, self.source, self.destination)
        return [
            t
            for t in found
            if (matcher is None or matcher.fullmatch(t)) and not (skip and REFERRER_TAG.fullmatch(t))
        ]

    def one(self, tag: str) -> None:
        name = f"{self.destination.ref.repository_ref}:{tag}"
        try:
            self._copy(tag)
        except (RegistryError, StoreError, OSError) as exc:
            with self.summary.lock:
                self.summary.failed[name] = str(exc)
            self.progress.message(f"Failed {name}: {exc}")

    def _copy(self, tag: str) -> None:
        src, dst = self.source, self.destination
        digest = src.client.manifests.resolve(src.ref.repository, tag).digest
        name = f"{dst.ref.repository_ref}:{tag}"
        if _current(dst.client, dst.ref.repository, tag) == digest:
            with self.summary.lock:
                self.summary.unchanged.append(name)
            return
        key = (dst.ref.repository_ref, digest)
        with self.summary.lock:
            image_lock = self.summary.images.setdefault(key, threading.Lock())
        copied, referrers = 0, 0
        with image_lock:  # another tag of the same image waits, then only tags
            if key not in self.summary.complete:
                at_source = RegistryStore(src.client, src.ref.with_tag(None).with_digest(digest))
                at_destination = RegistryStore(dst.client, dst.ref.with_tag(None).with_digest(digest))
                result = copy_with_referrers(
                    self.ctx, at_source, at_destination, Selection(all_platforms=True), Progress(quiet=True)
                )
                copied, referrers = result.bytes, len(result.referrers or [])
                self.summary.complete.add(key)
        root = src.client.manifests.get(src.ref.repository, digest)
        dst.client.manifests.put(dst.ref.repository, tag, root)  # the tag goes last: it names a whole image
        with self.summary.lock:
            self.summary.copied.append(name)
            self.summary.referrers += referrers
            self.summary.bytes += copied
        self.progress.message(f"Copied {name} ({digest}, {human_size(copied)})")


def _run(ctx: Context, pairs: list[tuple[RegistryStore, RegistryStore, str | None]]) -> Summary:
    summary = Summary()
    work = []
    for source, destination, pattern in pairs:
        mirror = Mirror(ctx, source, destination, summary)
        work += [(mirror, tag) for tag in mirror.tags(pattern)]
    with ThreadPoolExecutor(
        max_workers=max(1, getattr(ctx.args, "parallel", 4)), thread_name_prefix="dist-tag"
    ) as pool:
        for future in [pool.submit(mirror.one, tag) for mirror, tag in work]:
            future.result()
    return summary


def _report(ctx: Context, summary: Summary, source: str, destination: str, started: float) -> int:
    seconds = time.monotonic() - started
    value = summary.to_json(source, destination, seconds)
    text = (
        f"Synced {source} -> {destination}: {len(summary.copied)} copied, {len(summary.unchanged)} unchanged, "
        f"{len(summary.failed)} failed, {summary.referrers} referrers, {human_size(summary.bytes)} "
        f"in {seconds:.1f}s"
    )
    if ctx.args.json or not ctx.args.quiet:
        ctx.emit(value, text)
    if summary.failed:
        first, error = next(iter(summary.failed.items()))
        raise StoreError(f"{len(summary.failed)} tag(s) failed; {first}: {error}")
    return 0


def _store(ctx: Context, text: str, role: str) -> RegistryStore:
    ref = parse_reference(text.removeprefix("docker://"))
    if ref.tag is not None or ref.digest is not None:
        raise StoreError(f"{text}: name a repository (HOST/REPO), not an image")
    return RegistryStore(ctx.client(ref.host, role), ref)


def copy_all_tags(ctx: Context) -> int:
    """``dist copy --all-tags HOST/REPO HOST/REPO``: every tag, as ``sync`` does it."""
    started = time.monotonic()
    source, destination = _store(ctx, ctx.args.source, "src"), _store(ctx, ctx.args.destination, "dest")
    summary = _run(ctx, [(source, destination, None)])
    return _report(ctx, summary, ctx.args.source, ctx.args.destination, started)


def cmd_sync(ctx: Context) -> int:
    args, started = ctx.args, time.monotonic()
    if args.file:
        src_base, dst_base = args.source.removeprefix("docker://"), args.destination.removeprefix("docker://")
        pairs = [
            (
                _store(ctx, f"{src_base.rstrip('/')}/{job.source}", "src"),
                _store(ctx, f"{dst_base.rstrip('/')}/{job.destination}", "dest"),
                job.tags or args.tags,
            )
            for job in load_jobs(Path(args.file))
        ]
    else:
        pairs = [(_store(ctx, args.source, "src"), _store(ctx, args.destination, "dest"), args.tags)]
    return _report(ctx, _run(ctx, pairs), args.source, args.destination, started)
