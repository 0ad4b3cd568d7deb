"""Appending a large body to a file with ``O_DIRECT``: aligned blocks go to the disk, not the page cache.

Measured here (ext4 on virtio, 128 MiB, made durable by a final sync): buffered writes and ``fsync`` reach
~270-310 MiB/s, because the kernel's writeback of dirty pages is the slow part; ``O_DIRECT`` writes of
1 MiB aligned blocks and an ``fdatasync`` reach ~1 100-1 800 MiB/s. A writer that must sync what it
acknowledges (the filesystem driver with ``fsync``) therefore copies what it is handed into one
page-aligned block and writes each full block directly; the unaligned rest (the last partial block, and a
head that brings a resumed file to an aligned offset) goes through the ordinary buffered handle, whose
sync then covers everything.

Memory-backed roots (tmpfs, ramfs) have no disk to bypass and are written buffered. Where a filesystem
refuses ``O_DIRECT`` (tmpfs before Linux 6.6, some FUSE and network filesystems: the open or the first
write fails with ``EINVAL``), the block is written buffered instead and the root is not asked again.
"""

from __future__ import annotations

import errno
import mmap
import os
import threading
from typing import BinaryIO

__all__ = ["ALIGN", "BLOCK", "DirectAppender", "filesystem_type", "refused", "supported"]

#: Offsets and lengths of direct writes are multiples of this (a page: at least any disk's logical block).
ALIGN = 4096
#: Bytes gathered before one direct write (1 MiB: ~1.5 GiB/s here; 256 KiB: ~1.1 GiB/s).
BLOCK = 1 << 20
_O_DIRECT = getattr(os, "O_DIRECT", 0)
#: Roots whose filesystem refused O_DIRECT once: they are written buffered from then on.
_refused: set[str] = set()
#: Blocks kept for the next writer: a fresh mapping faults in each of its pages on the first copy.
IDLE_BLOCKS = 1
_idle: list[mmap.mmap] = []
_idle_lock = threading.Lock()


def _take_block() -> mmap.mmap:
    with _idle_lock:
        if _idle:
            return _idle.pop()
    # private and anonymous: page-aligned, as O_DIRECT needs, and not shared memory (shmem is slower)
    return mmap.mmap(-1, BLOCK, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


def _give_block(block: mmap.mmap) -> None:
    with _idle_lock:
        if len(_idle) < IDLE_BLOCKS:
            _idle.append(block)
            return
    block.close()


# A forked child starts without idle blocks (its copies of the parent's are not its to hand out).
os.register_at_fork(after_in_child=_idle.clear)


_MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})


def supported(root: str) -> bool:
    """Whether writers under ``root`` should try ``O_DIRECT``: not where the platform lacks it or the root
    lies in memory anyway (asked once per driver; ``refused`` tells whether the filesystem said no since)."""
    return bool(_O_DIRECT) and not in_memory(root)


def in_memory(root: str) -> bool:
    """Whether ``root`` lies on a filesystem in memory (tmpfs, ramfs), where a sync costs nothing."""
    return filesystem_type(root) in _MEMORY_FILESYSTEMS


def refused(root: str) -> bool:
    return root in _refused


def filesystem_type(path: str) -> str | None:
    """The type of the filesystem mounted where ``path`` (or its nearest existing parent) lies, from
    ``/proc/self/mounts``; None where that cannot be read."""
    path = os.path.realpath(path)
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as mounts:
            table = [line.split()[1:3] for line in mounts if len(line.split()) >= 3]
    except OSError:
        return None
    best, found = -1, None
    for mount_point, fstype in table:
        mount_point = mount_point.replace("\\040", " ")
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > best:
            best, found = len(mount_point), fstype
    return found


class DirectAppender:
    """Gathers appended bytes for ``target`` (whose buffered handle is ``file``, at ``offset``) into
    aligned blocks written with ``O_DIRECT``; ``drain`` hands what is left to ``file`` before it is synced.

    The direct descriptor is opened at the first full block, so a small body costs one copy and no extra
    open. ``file`` is flushed before each direct write: bytes still in its buffer belong before the block.
    """

    def __init__(self, root: str, target: str, file: BinaryIO, offset: int) -> None:
        self._root, self._target, self._file = root, target, file
        self._offset = offset  # where the next direct block goes (the file's end once drained)
        self._block: mmap.mmap | None = _take_block()
        self._view = memoryview(self._block)
        self._fill = 0
        self._fd = -1
        self._head = (-offset) % ALIGN  # buffered bytes that bring the file to an aligned offset
        self.active = True  # False once the filesystem refused: the caller writes buffered again

    def append(self, data: bytes) -> None:
        if self._head:
            head, data = data[: self._head], data[self._head :]
            self._file.write(head)
            self._head -= len(head)
            self._offset += len(head)
        view, size = memoryview(data), len(data)
        done = 0
        while done < size:
            n = min(BLOCK - self._fill, size - done)
            self._view[self._fill : self._fill + n] = view[done : done + n]
            self._fill += n
            done += n
            if self._fill == BLOCK:
                self._write_block()
                if not self.active:
                    self._file.write(view[done:])
                    return

    def _write_block(self) -> None:
        self._file.flush()
        try:
            if self._fd < 0:
                self._fd = os.open(self._target, os.O_WRONLY | _O_DIRECT)
            written = os.pwrite(self._fd, self._view, self._offset)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            _refused.add(self._root)  # this filesystem takes no direct writes: buffered from now on
            self._file.seek(self._offset)
            self._file.write(self._view[: self._fill])
            self._offset += self._fill
            self._fill = 0
            self.active = False
            return
        if written != BLOCK:  # a short direct write: the rest goes buffered (after seeking past it)
            self._file.seek(self._offset + written)
            self._file.write(self._view[written:])
        self._offset += BLOCK
        self._fill = 0

    def drain(self) -> None:
        """Hand the partial block to the buffered handle, at the file's end, and release the block."""
        try:
            if self._fill:
                self._file.seek(self._offset)
                self._file.write(self._view[: self._fill])
                self._offset += self._fill
                self._fill = 0
        finally:
            self.release()

    def release(self) -> None:
        """Close the direct descriptor and give the block back (what was not drained is dropped);
        idempotent, so a block is never handed to two writers."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        block, self._block = self._block, None
        if block is not None:
            self._view.release()
            _give_block(block)
