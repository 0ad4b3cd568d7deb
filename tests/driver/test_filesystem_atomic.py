"""Filesystem-only guarantees: distribution's on-disk mapping, atomic replace, hidden temp files, permissions."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_impl.storage.driver import filesystem, rangelocks
from registry_impl.storage.driver.base import PathNotFoundError
from registry_impl.storage.driver.filesystem import FilesystemDriver

pytestmark = pytest.mark.driver

LINK = "/docker/registry/v2/repositories/library/alpine/_manifests/tags/latest/current/link"


@pytest.fixture
def driver(tmp_path: Path) -> FilesystemDriver:
    return FilesystemDriver(tmp_path)


def test_driver_paths_map_under_the_root_directory(driver: FilesystemDriver, tmp_path: Path) -> None:
    driver.put_content(LINK, b"sha256:abc")
    assert (tmp_path / LINK.lstrip("/")).read_bytes() == b"sha256:abc"
    assert driver.local_path(LINK) == str(tmp_path / LINK.lstrip("/"))


def test_reads_a_data_directory_written_by_distribution(tmp_path: Path) -> None:
    blob = tmp_path / "docker/registry/v2/blobs/sha256/ab/abcd/data"
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"layer")
    driver = FilesystemDriver(str(tmp_path))
    assert driver.get_content("/docker/registry/v2/blobs/sha256/ab/abcd/data") == b"layer"
    assert driver.list("/docker/registry/v2/blobs/sha256") == ["/docker/registry/v2/blobs/sha256/ab"]


def test_missing_root_directory_lists_empty(tmp_path: Path) -> None:
    assert FilesystemDriver(tmp_path / "not-yet").list("/") == []


def test_put_content_leaves_no_temporary_files(driver: FilesystemDriver, tmp_path: Path) -> None:
    for i in range(20):
        driver.put_content(LINK, f"sha256:{i}".encode())
    directory = (tmp_path / LINK.lstrip("/")).parent
    assert os.listdir(directory) == ["link"]


def test_failed_replace_keeps_old_content_and_no_temporary(
    driver: FilesystemDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver.put_content(LINK, b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(Exception, match="disk on fire"):
        driver.put_content(LINK, b"new")
    monkeypatch.undo()
    assert driver.get_content(LINK) == b"old"
    assert os.listdir((tmp_path / LINK.lstrip("/")).parent) == ["link"]


def test_unaddressable_names_are_not_listed_or_walked(driver: FilesystemDriver, tmp_path: Path) -> None:
    driver.put_content("/d/ok", b"x")
    for name in (".~tmp-123", "has space", "new\nline"):
        (tmp_path / "d" / name).write_bytes(b"junk")
    assert driver.list("/d") == ["/d/ok"]
    assert [info.path for info in driver.walk("/d")] == ["/d/ok"]


def test_readers_during_replace_see_whole_values(driver: FilesystemDriver) -> None:
    old, new = b"o" * (8 << 20), b"n" * (8 << 20)
    driver.put_content(LINK, old)
    done = threading.Event()
    seen: set[bytes] = set()

    def read() -> None:
        while not done.is_set():
            content = driver.get_content(LINK)
            seen.add(content if content in (old, new) else b"partial")

    reader = threading.Thread(target=read)
    reader.start()
    for value in (new, old, new):
        driver.put_content(LINK, value)
    done.set()
    reader.join()
    assert seen <= {old, new}


def test_move_is_a_rename(driver: FilesystemDriver, tmp_path: Path) -> None:
    driver.put_content("/uploads/u/data", b"blob")
    inode = os.stat(tmp_path / "uploads/u/data").st_ino
    driver.move("/uploads/u/data", "/blobs/ab/abc/data")
    assert os.stat(tmp_path / "blobs/ab/abc/data").st_ino == inode


def test_files_respect_the_umask(driver: FilesystemDriver, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        driver.put_content("/put", b"x")
        with driver.writer("/written") as writer:
            writer.write(b"x")
    finally:
        os.umask(old)
    for name in ("put", "written"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644


def test_local_path_of_missing_or_directory(driver: FilesystemDriver) -> None:
    driver.put_content("/d/f", b"x")
    for path in ("/d", "/d/missing"):
        with pytest.raises(PathNotFoundError):
            driver.local_path(path)


@pytest.mark.parametrize("fsync", [True, False])
def test_fsync_is_optional(tmp_path: Path, fsync: bool) -> None:
    driver = FilesystemDriver.from_params({"rootdirectory": str(tmp_path), "fsync": fsync})
    assert driver.fsync is fsync
    driver.put_content("/a", b"x")
    with driver.writer("/b") as writer:
        writer.write(b"y")
    assert (driver.get_content("/a"), driver.get_content("/b")) == (b"x", b"y")


def test_writer_buffers_small_writes(driver: FilesystemDriver, tmp_path: Path) -> None:
    writer = driver.writer("/f")
    writer.write(b"small")
    assert (tmp_path / "f").stat().st_size == 0  # still in the buffer
    writer.close()
    assert (tmp_path / "f").read_bytes() == b"small"


def _count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    synced: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return synced


def test_volatile_content_is_atomic_without_syncs(
    driver: FilesystemDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = _count_fsyncs(monkeypatch)
    driver.put_content("/a/b/state", b"cache", durable=False)
    driver.put_content("/a/b/state", b"cache2", durable=False)
    assert synced == [] and driver.get_content("/a/b/state") == b"cache2"
    assert os.listdir(tmp_path / "a/b") == ["state"]  # replaced by a rename: no temporary left
    driver.put_content("/a/b/durable", b"x")
    assert len(synced) == 2  # the file, then the directory holding its rename


def test_large_writes_start_the_disk_early(
    driver: FilesystemDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    monkeypatch.setattr(filesystem, "_sync_file_range", lambda: started.append)
    driver.direct = False  # as on a filesystem that refuses O_DIRECT (test_filesystem_direct covers it)
    data = os.urandom(1 << 20)
    with driver.writer("/big") as writer:
        for _ in range(2 * filesystem.WRITEBACK_EVERY // len(data)):
            writer.write(data)
        assert len(started) == 2
        assert (
            tmp_path / "big"
        ).stat().st_size == 2 * filesystem.WRITEBACK_EVERY  # flushed before each start
    assert (tmp_path / "big").read_bytes() == data * (2 * filesystem.WRITEBACK_EVERY // len(data))
    unsynced = FilesystemDriver(tmp_path, fsync=False)
    with unsynced.writer("/other") as writer:
        writer.write(os.urandom(filesystem.WRITEBACK_EVERY))
    assert len(started) == 2  # without fsync, nothing to hurry


def test_body_chunks_reach_the_file_as_they_are_written(tmp_path: Path) -> None:
    """A server's body chunk (granian's are up to 408 KiB) is not held back for ``close``, which runs once
    the body has ended, while the client waits for its answer; smaller writes are still gathered."""
    driver = FilesystemDriver(tmp_path, fsync=False)  # buffered, as on tmpfs
    chunk, small = os.urandom(408 << 10), os.urandom(4096)
    with driver.writer("/upload") as writer:
        writer.write(small)
        assert (tmp_path / "upload").stat().st_size == 0
        for written in range(1, 4):
            writer.write(chunk)
            assert (tmp_path / "upload").stat().st_size == len(small) + written * len(chunk)
    assert (tmp_path / "upload").read_bytes() == small + chunk * 3


@pytest.mark.parametrize(
    ("value", "expected"), [(True, (True, True)), ("commit", (True, False)), ("FALSE", (False, False))]
)
def test_fsync_parameter(tmp_path: Path, value: object, expected: tuple[bool, bool]) -> None:
    driver = FilesystemDriver.from_params({"rootdirectory": str(tmp_path), "fsync": value})
    assert (driver.fsync, driver.sync_closes) == expected
    with pytest.raises(ValueError, match="fsync"):
        FilesystemDriver.from_params({"rootdirectory": str(tmp_path), "fsync": "sometimes"})


def test_fsync_commit_syncs_what_is_committed_not_what_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = FilesystemDriver(tmp_path, fsync="commit")
    synced = _count_fsyncs(monkeypatch)
    with driver.writer("/uploads/data") as writer:
        writer.write(b"chunk")
    assert synced == []  # an upload chunk's close: left to the page cache
    driver.move("/uploads/data", "/blobs/data")
    assert len(synced) == 2  # the file before its rename, then the directory holding it
    assert driver.get_content("/blobs/data") == b"chunk"
    with driver.writer("/other") as writer:
        writer.write(b"x")
        writer.commit()
    driver.put_content("/link", b"y")
    assert len(synced) == 2 + 1 + 2


def test_starting_writeback_is_harmless(tmp_path: Path) -> None:
    start = filesystem._sync_file_range()
    assert start is not None  # Linux: the call is there
    with (tmp_path / "f").open("wb") as f:
        f.write(b"x" * 10000)
        f.flush()
        start(f.fileno())
    assert (tmp_path / "f").stat().st_size == 10000


CLAIM = "/docker/registry/v2/_claims/uploads/library/alpine/0a1b"
HOLDER = """
import sys, time
from registry_impl.storage.driver.filesystem import FilesystemDriver
claim = FilesystemDriver(sys.argv[1]).try_claim(sys.argv[2], shared=sys.argv[3:] == ["shared"])
print("held" if claim is not None else "refused", flush=True)
time.sleep(60)
"""


@contextlib.contextmanager
def _held_by_another_process(root: Path, *, shared: bool = False) -> Iterator[None]:
    """``CLAIM`` held by another process for the ``with`` block, then that process kill -9'd."""
    argv = [sys.executable, "-c", HOLDER, str(root), CLAIM, *(["shared"] if shared else [])]
    holder = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


def test_claim_held_by_another_process_until_it_is_killed(driver: FilesystemDriver, tmp_path: Path) -> None:
    with _held_by_another_process(tmp_path):
        assert driver.try_claim(CLAIM) is None, "another process's claim was granted here"
    claim = driver.try_claim(CLAIM)
    assert claim is not None, "a killed holder's claim was never released"
    claim.release()
    assert not os.path.exists(tmp_path / CLAIM.lstrip("/")), "a released claim left its lock file"


def test_shared_claim_of_another_process_is_shared_and_keeps_exclusive_ones_out_until_killed(
    driver: FilesystemDriver, tmp_path: Path
) -> None:
    if not rangelocks.available():
        pytest.skip("no OFD locks on this platform: shared claims are exclusive")
    with _held_by_another_process(tmp_path, shared=True):
        exclusive = driver.try_claim(CLAIM)
        assert exclusive is None, "an exclusive claim was granted beside another process's shared one"
        beside = driver.try_claim(CLAIM, shared=True)
        assert beside is not None, "a shared claim was refused beside another process's shared one"
        beside.release()
    claim = driver.try_claim(CLAIM)
    assert claim is not None, "a killed shared holder's claim was never released"
    claim.release()


def test_shared_claims_are_exclusive_with_lock_files(
    driver: FilesystemDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock file is removed by the holder that releases it: two holders sharing one would let an exclusive
    claim lock a new file beside the one still held, so without OFD locks a shared claim is exclusive."""
    monkeypatch.setattr(rangelocks, "available", lambda: False)
    first = driver.try_claim(CLAIM, shared=True)
    assert first is not None
    assert driver.try_claim(CLAIM, shared=True) is None
    assert driver.try_claim(CLAIM) is None
    first.release()
    claim = driver.try_claim(CLAIM)
    assert claim is not None
    claim.release()


@pytest.mark.parametrize("ranges", [True, False], ids=["byte-range locks", "lock files"])
def test_claims_leave_no_file_and_nothing_listed(
    driver: FilesystemDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ranges: bool
) -> None:
    if ranges and not rangelocks.available():
        pytest.skip("no OFD locks on this platform")
    monkeypatch.setattr(rangelocks, "available", lambda: ranges)
    for i in range(50):
        claim = driver.try_claim(f"{CLAIM}-{i}")
        assert claim is not None and driver.try_claim(f"{CLAIM}-{i}") is None
        claim.release()
    left = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert left == ({rangelocks.LOCK_FILE} if ranges else set())
    assert driver.list("/") == ([] if ranges else ["/docker"])  # the lock file is never listed


def test_a_deleted_directory_vanishes_at_once(driver: FilesystemDriver, tmp_path: Path) -> None:
    """Readers see a tag directory whole or not at all while it is deleted (renamed away first)."""
    tags = "/docker/registry/v2/repositories/r/_manifests/tags"
    stop = threading.Event()
    torn: list[str] = []

    def watch() -> None:
        while not stop.is_set():
            for child in driver.list(tags) if os.path.isdir(tmp_path / tags.lstrip("/")) else []:
                try:
                    driver.get_content(f"{child}/current/link")
                except PathNotFoundError:
                    if os.path.isdir(tmp_path / child.lstrip("/")):
                        torn.append(child)

    driver.put_content(f"{tags}/keep/current/link", b"k")
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for n in range(40):
            driver.put_content(f"{tags}/t{n}/current/link", b"c")  # the tag store writes current first
            for i in range(20):
                driver.put_content(f"{tags}/t{n}/index/sha256/{i:02x}/link", b"i")
            driver.delete(f"{tags}/t{n}")
    finally:
        stop.set()
        watcher.join()
    assert not torn, torn[:3]
    assert not [p for p in os.listdir(tmp_path / tags.lstrip("/")) if p != "keep"], "hidden leftovers"


def _left_by_killed_writes(root: Path) -> list[Path]:
    """What a write killed midway leaves (the audit's finds after kill -9): a file made for an atomic
    replace, a staged directory holding a new session's file, a directory renamed away to be deleted."""
    revisions = root / "docker/registry/v2/repositories/a/_manifests/revisions/sha256"
    uploads = root / "docker/registry/v2/repositories/a/_uploads"
    revisions.mkdir(parents=True)
    uploads.mkdir(parents=True)
    (revisions / "kept").write_bytes(b"content")
    made = revisions / ".~tmp-90790ce57e462567"
    made.write_bytes(b"sha256:" + b"0" * 64)
    stage = uploads / ".~tmp-2456ee634c1a1702"
    (stage / "u").mkdir(parents=True)
    (stage / "u/startedat").write_bytes(b"2026-12-03T00:00:00Z")
    deleting = root / "docker/registry/v2/repositories/.~tmp-00000000000000ab"
    (deleting / "_layers").mkdir(parents=True)
    return [made, stage, deleting]


def test_what_killed_writes_staged_is_swept_once_stale(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path / "root", fsync=False)
    left = _left_by_killed_writes(tmp_path / "root")
    assert driver.sweep_stages() == []  # changed just now: as a write in progress, kept
    time.sleep(0.02)
    expected = sorted("/" + str(p.relative_to(tmp_path / "root")) for p in left)
    assert driver.sweep_stages(0.01, dry_run=True) == expected
    assert all(p.exists() for p in left)
    assert driver.sweep_stages(0.01) == expected
    assert not any(p.exists() for p in left)
    kept = "/docker/registry/v2/repositories/a/_manifests/revisions/sha256/kept"
    assert driver.get_content(kept) == b"content"
    assert driver.sweep_stages(0.0) == []
