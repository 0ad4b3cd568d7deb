"""Link files read from memory on a local filesystem, invalidated through a token table all processes share.

A manifest GET by tag reads two link files (the tag's current link, then the revision link): six system
calls, each of which also hands the interpreter lock to granian's I/O thread and back. Measured with a trivial
cache in their place (one granian worker, wrk, 64 connections): 12 200-13 400 → 17 600-27 400 GETs per second.

The table is ``<root>/.~tokens``: ``SLOTS`` 8-byte words mapped ``MAP_SHARED`` by every process that opens
the root (granian's workers, other registries on this host, ``registry garbage-collect``), so they all see
one copy in the page cache. Word 0 covers every link; word ``1 + crc32(name) % (SLOTS - 1)`` covers the links
of repository ``name``. After each change through a filesystem driver (a put, move, delete or writer) the
words covering its path get a fresh random value. A reader takes the words before it reads a link and trusts
what it read while they are unchanged, for at most ``TTL`` seconds:

- A change acknowledged before a request started is seen by it in every process: its words moved before the
  acknowledgement, and the cached copy was taken under the old ones.
- A change made behind the drivers' back (an operator's ``rm``, another program on the same directory), or by
  a writer killed between its change and its token, is seen within ``TTL``.
- Random values, not counters: two writers racing cannot leave a word where a reader saw it, whatever the
  interleaving of their read-modify-writes (there are none). A word is one aligned 8-byte store.

Only what the answers of read-only requests need goes through here (``StorageDriver.get_content_cached``);
a write that decides from a link's content (re-link, untag) reads the file. Only local filesystems share
one page cache between processes: elsewhere (NFS, SMB, FUSE, 9p...) every read goes to the file. The
name holds ``~``, which no driver path component may, so ``list`` and ``walk`` never show the file.
"""

from __future__ import annotations

import logging
import mmap
import os
import random
import time
import zlib
from collections.abc import Callable

from registry_impl.storage.driver.direct import filesystem_type

__all__ = ["LOCAL_FILESYSTEMS", "SLOTS", "TOKEN_FILE", "TTL", "LinkCache", "scope_of"]

log = logging.getLogger(__name__)

TOKEN_FILE = ".~tokens"
SLOTS = 4096
#: Seconds a cached link is trusted at most: the bound on seeing a change made outside the drivers.
TTL = 1.0
#: Links kept per process (a few hundred bytes each); the whole set is dropped when full.
MAX_ENTRIES = 8192
LOCAL_FILESYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "bcachefs", "jfs", "tmpfs", "ramfs", "overlay"}
)
_REPOSITORIES = "/docker/registry/v2/repositories/"
_LINK_DIRS = frozenset({"_manifests", "_layers"})
_WORD = 8


def scope_of(path: str) -> int | None:
    """The token word covering the links at or below driver path ``path``; None when there are none.

    Inside a repository (``.../repositories/<name>/_manifests/...``, ``_layers``) its own word; a path that
    may hold several repositories (a namespace, the ``repositories`` directory or any of its parents) word 0;
    blobs, uploads and anything else hold no links.
    """
    if not path.startswith(_REPOSITORIES):
        return 0 if _REPOSITORIES.startswith(path.rstrip("/") + "/") else None
    parts = path[len(_REPOSITORIES) :].split("/")
    for index, part in enumerate(parts):
        if part.startswith("_"):
            if part not in _LINK_DIRS or index == 0:
                return None
            name = "/".join(parts[:index])
            return 1 + zlib.crc32(name.encode()) % (SLOTS - 1)
    return 0


class LinkCache:
    """This process's copies of link files under one root, and the shared token table that vouches for them."""

    def __init__(self, words: memoryview, table: mmap.mmap) -> None:
        self._words = words
        self._table = table  # kept open while the view is in use
        self._entries: dict[str, tuple[bytes, int, int, int, float]] = {}

    @classmethod
    def open(cls, root: str) -> LinkCache | None:
        """The cache of ``root``, or None where it cannot be trusted or shared (not a local filesystem, or
        the token table cannot be opened for writing: then every read goes to its file)."""
        if filesystem_type(root) not in LOCAL_FILESYSTEMS:
            return None
        path = os.path.join(root, TOKEN_FILE)
        try:
            os.makedirs(root, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            log.warning("link cache off for %s: %s", root, exc)
            return None
        try:
            if os.fstat(fd).st_size < SLOTS * _WORD:
                os.ftruncate(fd, SLOTS * _WORD)  # zeroes; growing is idempotent when processes race
            table = mmap.mmap(fd, SLOTS * _WORD, flags=mmap.MAP_SHARED)
        except OSError as exc:
            log.warning("link cache off for %s: %s", root, exc)
            return None
        finally:
            os.close(fd)
        return cls(memoryview(table).cast("Q"), table)

    def read(self, path: str, load: Callable[[str], bytes]) -> bytes:
        """The content of link ``path``: the copy read since its words last moved (and less than ``TTL`` ago),
        else ``load(path)``, kept. A path that is not a link (no repository word) is always loaded."""
        words = self._words
        entry = self._entries.get(path)
        if entry is not None:
            content, slot, everything, own, until = entry
            if words[0] == everything and words[slot] == own and time.monotonic() < until:
                return content
        else:
            slot = scope_of(path) or 0
            if not slot:
                return load(path)
        everything, own = words[0], words[slot]  # before the read: a change after it moves them
        content = load(path)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[path] = (content, slot, everything, own, time.monotonic() + TTL)
        return content

    def changed(self, path: str) -> None:
        """Announce a change at or below ``path`` (after making it) to every process sharing the table."""
        slot = scope_of(path)
        if slot is not None:
            self._words[slot] = random.getrandbits(64)

    def close(self) -> None:
        self._entries.clear()
        self._words.release()
        self._table.close()
