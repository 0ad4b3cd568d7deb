"""Offline garbage collection (``registry_impl.storage.gc``) on every driver: in-memory, filesystem, S3 (moto).

The scenario is ``testkit.gcseed``; each test seeds it through the storage layer, runs a GC mode and checks
what is left in the driver: blobs, revisions, tag index entries, layer links and the referrers index.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit import gcseed
from testkit.s3 import MotoS3

from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.driver.s3 import S3Driver
from registry_impl.storage.gc import GCError, collect_garbage
from registry_impl.storage.registry import Registry

pytestmark = pytest.mark.driver


@pytest.fixture(params=["inmemory", "filesystem", "s3"])
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageDriver]:
    if request.param == "inmemory":
        yield InMemoryDriver()
    elif request.param == "filesystem":
        yield FilesystemDriver(tmp_path / "root", fsync=False)
    else:
        moto: MotoS3 = request.getfixturevalue("moto_s3")
        yield S3Driver.from_params(moto.params(moto.bucket("gc")))


def blob_set(driver: StorageDriver) -> set[str]:
    root = paths.blobs_root()
    return {
        "sha256:" + info.path.rsplit("/", 2)[1]
        for info in driver.walk(root)
        if not info.is_dir and info.path.endswith("/data")
    }


def exists(driver: StorageDriver, path: str) -> bool:
    try:
        driver.stat(path)
    except PathNotFoundError:
        return False
    return True


def test_gc_keeps_every_manifest_and_sweeps_unreferenced_blobs(driver: StorageDriver) -> None:
    registry = Registry(driver)
    seeded = gcseed.seed(gcseed.StoragePusher(registry))
    before = blob_set(driver)

    dry = collect_garbage(Registry(driver), dry_run=True)
    assert blob_set(driver) == before  # nothing changed
    assert seeded.names(set(dry.blobs)) == gcseed.DELETED_BLOBS

    report = collect_garbage(Registry(driver))
    assert report.manifests == [] and report.referrers == []
    assert seeded.names(before - blob_set(driver)) == gcseed.DELETED_BLOBS
    assert {(n, seeded.names({d}).pop()) for n, d in report.layer_links} == gcseed.DELETED_LAYER_LINKS
    assert not exists(driver, paths.layer_link_path("gc/a", seeded.labels["ORPHAN"]))
    assert exists(driver, paths.layer_link_path("gc/a", seeded.labels["SHARED"]))
    # a second run has nothing left to do
    again = collect_garbage(Registry(driver))
    assert again.blobs == [] and again.layer_links == []


def test_gc_delete_untagged_keeps_index_children_and_referrers_of_survivors(driver: StorageDriver) -> None:
    registry = Registry(driver)
    seeded = gcseed.seed(gcseed.StoragePusher(registry))
    before = blob_set(driver)

    dry = collect_garbage(Registry(driver), dry_run=True, delete_untagged=True)
    assert blob_set(driver) == before
    assert exists(driver, paths.manifest_revision_link_path("gc/a", seeded.labels["A0"]))

    report = collect_garbage(Registry(driver), delete_untagged=True)
    assert report.manifests == dry.manifests and report.blobs == dry.blobs
    label = {d: k for k, d in seeded.labels.items()}
    assert {(n, label[d]) for n, d in report.manifests} == gcseed.UNTAGGED_DELETED_MANIFESTS
    assert seeded.names(before - blob_set(driver)) == gcseed.UNTAGGED_DELETED_BLOBS
    assert {(n, label[d]) for n, d in report.layer_links} == gcseed.UNTAGGED_DELETED_LAYER_LINKS
    assert {(n, label[s], label[r]) for n, s, r in report.referrers} == gcseed.UNTAGGED_DELETED_REFERRERS

    a0 = seeded.labels["A0"]
    assert not exists(driver, paths.manifest_revision_path("gc/a", a0))
    assert not exists(driver, paths.tag_index_entry_path("gc/a", "v1", a0))
    assert exists(driver, paths.tag_index_entry_path("gc/a", "v1", seeded.labels["A1"]))
    for child in ("M1", "M2"):
        assert exists(driver, paths.manifest_revision_link_path("gc/b", seeded.labels[child]))

    # the referrers API agrees with what is left
    repo = Registry(driver).repository("gc/a")
    assert repo.referrers.list(seeded.labels["A1"]) == [seeded.labels["SIG1"]]
    assert repo.referrers.list(a0) == []
    assert repo.manifests.exists(seeded.labels["SIG1"])
    assert collect_garbage(Registry(driver), delete_untagged=True).blobs == []


def test_gc_aborts_before_deleting_on_an_unreadable_manifest(driver: StorageDriver) -> None:
    registry = Registry(driver)
    seeded = gcseed.seed(gcseed.StoragePusher(registry))
    bad = registry.blobs.put(b"not json")
    driver.put_content(paths.manifest_revision_link_path("gc/a", bad), bad.encode())
    before = blob_set(driver)
    with pytest.raises(GCError, match="not a manifest"):
        collect_garbage(Registry(driver), delete_untagged=True)
    assert blob_set(driver) == before
    assert seeded.labels["ORPHAN"] in before


@pytest.mark.parametrize("online", [False, True], ids=["offline", "online"])
def test_gc_sweeps_what_killed_writes_left_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, online: bool
) -> None:
    """Hidden staging entries no listing shows (a file made for an atomic replace, a staged or a
    deleted-away directory) outlive a kill -9; once stale, GC reports and removes them, content stays."""
    import time

    from registry_impl.storage.onlinegc import collect_garbage_online

    root = tmp_path / "root"
    driver = FilesystemDriver(root, fsync=False)
    seeded = gcseed.seed(gcseed.StoragePusher(Registry(driver)))
    revisions = root / "docker/registry/v2/repositories/gc/a/_manifests/revisions/sha256"
    made = revisions / ".~tmp-90790ce57e462567"
    made.write_bytes(b"sha256:" + b"0" * 64)
    deleting = root / "docker/registry/v2/repositories/gc/.~tmp-00000000000000ab"
    (deleting / "_layers").mkdir(parents=True)
    staged = sorted("/" + str(p.relative_to(root)) for p in (made, deleting))

    def run(dry_run: bool) -> list[str]:
        registry = Registry(driver)
        if online:
            report = collect_garbage_online(registry, grace=timedelta(0), dry_run=dry_run)
        else:
            report = collect_garbage(registry, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        lines = [f"{verb} {path}: staged by a write that did not finish" for path in report.stages]
        assert lines == [line for line in report.lines() if "staged" in line]
        return report.stages

    assert run(dry_run=False) == []  # just made: a write in progress for all GC can tell
    later = time.time() + 2 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert run(dry_run=True) == staged and made.exists() and deleting.exists()
    assert run(dry_run=False) == staged
    assert not made.exists() and not deleting.exists()
    assert seeded.labels["SHARED"] in blob_set(driver)


def test_online_gc_never_deletes_a_blob_a_writer_holds(driver: StorageDriver) -> None:
    """Writers share a blob's claim with one another, never with GC: a blob a writer holds (a manifest PUT
    between its check that the blob exists and its revision link) is kept however garbage it looks, and
    collected once the writer lets go."""
    import os

    from registry_impl.digests import parse_digest
    from registry_impl.storage.blobclaims import blobs_claimed
    from registry_impl.storage.onlinegc import collect_garbage_online

    registry = Registry(driver)
    repo = registry.repository("gc/held")
    data = os.urandom(1024)
    digest = gcseed.sha256(data)
    upload = repo.uploads.start()
    writer = repo.uploads.writer(upload.uuid)
    writer.write(data)
    writer.close(save_state=False)
    repo.uploads.complete(upload.uuid, parse_digest(digest))
    repo.blobs.link(digest)  # linked, referenced by no manifest: garbage with no grace period
    with blobs_claimed(driver, [digest]):
        report = collect_garbage_online(registry, grace=timedelta(0))
        assert digest not in report.blobs
        assert exists(driver, paths.blob_data_path(digest))
    report = collect_garbage_online(registry, grace=timedelta(0))
    assert digest in report.blobs
    assert not exists(driver, paths.blob_data_path(digest))
