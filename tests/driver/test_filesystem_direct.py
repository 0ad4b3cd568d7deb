"""Synced filesystem writers append large bodies with O_DIRECT: the bytes are exact at every alignment,
a resumed file is brought to an aligned offset first, and a filesystem that refuses O_DIRECT is written
buffered instead (and not asked again)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.disks import on_disk

from registry_impl.storage.driver import direct
from registry_impl.storage.driver.filesystem import FilesystemDriver

pytestmark = pytest.mark.driver


@pytest.fixture
def disk_root(tmp_path: Path) -> Iterator[Path]:
    """A directory on a disk-backed filesystem (where /tmp is tmpfs, one under /var/tmp)."""
    with on_disk(tmp_path) as root:
        yield root


@pytest.fixture
def direct_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(offset, length) of every direct write."""
    seen: list[tuple[int, int]] = []
    real = os.pwrite

    def recording(fd: int, data: memoryview, offset: int) -> int:
        seen.append((offset, len(data)))
        return real(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", recording)
    return seen


def test_a_disk_root_writes_direct_and_memory_roots_do_not(disk_root: Path) -> None:
    assert FilesystemDriver(disk_root).direct
    assert not FilesystemDriver(disk_root, fsync=False).direct  # nothing to sync: the page cache is faster
    if direct.filesystem_type("/dev/shm") == "tmpfs":
        assert not FilesystemDriver("/dev/shm/registry-never-created").direct


@pytest.mark.parametrize("piece", [4095, 65536, 400_000, direct.BLOCK + 17])
def test_bytes_are_exact_across_block_boundaries(
    disk_root: Path, direct_writes: list[tuple[int, int]], piece: int
) -> None:
    driver = FilesystemDriver(disk_root)
    body = os.urandom(3 * direct.BLOCK + 12345)
    with driver.writer("/up/data") as writer:
        for at in range(0, len(body), piece):
            writer.write(body[at : at + piece])
        writer.commit()
    assert (disk_root / "up/data").read_bytes() == body
    assert direct_writes == [(i * direct.BLOCK, direct.BLOCK) for i in range(3)]  # the rest went buffered


def test_a_resumed_file_is_aligned_before_direct_blocks(
    disk_root: Path, direct_writes: list[tuple[int, int]]
) -> None:
    driver = FilesystemDriver(disk_root)
    first, second = os.urandom(5000), os.urandom(2 * direct.BLOCK + 5000)
    with driver.writer("/up/data") as writer:
        writer.write(first)  # closed at 5 000 bytes: not a multiple of the alignment
    with driver.writer("/up/data", append=True) as writer:
        assert writer.size == len(first)
        writer.write(second)
    assert (disk_root / "up/data").read_bytes() == first + second
    head = direct.ALIGN * 2 - len(first)  # buffered, up to the next aligned offset
    assert direct_writes == [
        (len(first) + head, direct.BLOCK),
        (len(first) + head + direct.BLOCK, direct.BLOCK),
    ]


def test_a_small_body_opens_no_direct_descriptor(
    disk_root: Path, direct_writes: list[tuple[int, int]]
) -> None:
    driver = FilesystemDriver(disk_root)
    with driver.writer("/small") as writer:
        writer.write(b"config")
        writer.commit()
    assert (disk_root / "small").read_bytes() == b"config" and direct_writes == []


def test_a_filesystem_refusing_o_direct_is_written_buffered(
    disk_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def refusing(path: str, flags: int, *args: int) -> int:
        if flags & direct._O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing)
    monkeypatch.setattr(direct, "_refused", set())
    driver = FilesystemDriver(disk_root)
    body = os.urandom(2 * direct.BLOCK + 7)
    with driver.writer("/a") as writer:
        writer.write(body)
        writer.commit()
    assert (disk_root / "a").read_bytes() == body
    assert direct.refused(str(disk_root))
    with driver.writer("/b") as writer:  # not asked again
        writer.write(body)
        writer.commit()
    assert (disk_root / "b").read_bytes() == body


def test_a_failed_direct_write_fails_the_writer(disk_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: memoryview, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    driver = FilesystemDriver(disk_root)
    writer = driver.writer("/full")
    with pytest.raises(Exception, match="No space left"):
        writer.write(os.urandom(direct.BLOCK))
    writer.cancel()
    assert not (disk_root / "full").exists()
