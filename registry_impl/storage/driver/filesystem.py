"""The filesystem storage driver: driver path ``/a/b`` is ``<rootdirectory>/a/b``, as in distribution.

A data directory written by distribution's ``registry`` (or Debian's ``docker-registry``) is readable as is:
its root holds ``docker/registry/v2/...``. ``put_content`` and ``move`` are atomic: content goes to a
temporary file in the target directory, then ``os.replace``. Temporary names contain ``~``, which no valid
driver path component may, so ``list`` and ``walk`` never show them (nor anything else not addressable).

Directories behave as on S3, where a directory exists exactly while a file lies below it: a file whose
parent directories are missing is written into a hidden staging directory that is then renamed into
place, so the directories appear together with the file (a crash cannot leave a tag directory without its
link); ``delete`` of a directory renames it out of sight before removing it, so it vanishes at once.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any, BinaryIO

from registry_impl.storage.driver import direct, rangelocks
from registry_impl.storage.driver.base import (
    STALE_STAGE_AGE,
    FileInfo,
    FileWriter,
    PathNotFoundError,
    StorageDriver,
    StorageDriverError,
)
from registry_impl.storage.driver.claims import Claim
from registry_impl.storage.driver.linkcache import LinkCache, scope_of

__all__ = ["DEFAULT_ROOT", "FilesystemDriver"]

DEFAULT_ROOT = "/var/lib/registry"
#: A writer's buffer: smaller writes are gathered to this size; larger ones (a server's body chunks, an upload
#: pipe's batches) go to the OS as they come, on the thread that writes them. A larger buffer copied every
#: chunk once more and left up to its size to be written by ``close``, after the body had ended: on tmpfs
#: ~4 ms at the end of each 8 MiB PATCH, during which the client waits for the answer.
WRITE_BUFFER = 256 << 10
_NAME_RE = re.compile(r"[A-Za-z0-9._-]+")
_TEMP_PREFIX = ".~tmp-"


@contextmanager
def _not_found(path: str) -> Iterator[None]:
    """Turn 'no such file' (or a file where a directory was needed) into :class:`PathNotFoundError`."""
    try:
        yield
    except (FileNotFoundError, NotADirectoryError) as err:
        raise PathNotFoundError(path) from err


_SMALL_READ = 64 << 10  # links and manifests fit in one read
_LARGE_READ = 1 << 20


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, UTC)


def _sync_path(os_path: str) -> None:
    """fsync a file or a directory (a directory: the entries renamed into it) by its path."""
    fd = os.open(os_path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_param(value: object) -> bool | str:
    """The driver's ``fsync`` parameter: true (default), false, or ``commit``; strings from the environment too."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "false", "commit"):
        return {"true": True, "false": False}.get(word, "commit")
    raise ValueError(f"filesystem driver parameter fsync: expected true, false or commit, not {value!r}")


#: How long a directory must have been unchanged before its token is trusted (see ``_directory_token``).
QUIET_NS = 50_000_000


def _addressable(name: str) -> bool:
    return bool(_NAME_RE.fullmatch(name)) and name not in (".", "..")


class FilesystemDriver(StorageDriver):
    """Files under a root directory; ``fsync`` makes ``put_content`` and ``commit`` durable (default on).

    With ``fsync`` (distribution's behaviour) a small ``put_content`` costs ~5-10 ms instead of ~0.1-0.5 ms on
    ext4 (it syncs the temporary file and then the directory holding the rename); ``commit`` syncs the file.
    Like distribution, ``close`` syncs too, so an acknowledged upload chunk survives a crash.

    ``fsync="commit"`` syncs what is committed and not what is only closed: ``put_content``, ``commit`` and
    ``move`` (which syncs the file before renaming it, so a completed upload's blob is durable) stay durable,
    while an upload chunk's ``close`` leaves its bytes to the page cache. That survives kill -9 (the kernel
    keeps the bytes), not a power loss: the session may then hold less than a PATCH acknowledged, and the
    client resumes from the ``Range`` it is told (or restarts the push).
    """

    name = "filesystem"

    def __init__(
        self, rootdirectory: str | os.PathLike[str] = DEFAULT_ROOT, *, fsync: bool | str = True
    ) -> None:
        self.root = Path(rootdirectory).absolute()
        self.fsync = fsync is True or fsync == "commit"
        #: Whether a writer's ``close`` syncs (not with ``fsync="commit"``).
        self.sync_closes = fsync is True
        #: Whether synced writers append large bodies with O_DIRECT (see ``direct``): on disks, not in memory.
        self.direct = self.fsync and direct.supported(str(self.root))
        self.syncs_wait = self.fsync and not direct.in_memory(str(self.root))
        self._links: LinkCache | None = None
        self._links_opened = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> FilesystemDriver:
        """Build from distribution's keys ``rootdirectory``, ``maxthreads`` (accepted, unused) and our ``fsync``."""
        unknown = set(params) - {"rootdirectory", "maxthreads", "fsync"}
        if unknown:
            raise ValueError(f"unknown filesystem driver parameters: {sorted(unknown)}")
        return cls(
            str(params.get("rootdirectory") or DEFAULT_ROOT), fsync=_fsync_param(params.get("fsync", True))
        )

    def __repr__(self) -> str:
        return f"<FilesystemDriver {str(self.root)!r}>"

    def _os_path(self, path: str) -> str:
        return str(self.root) + path if path != "/" else str(self.root)

    def get_content_cached(self, path: str) -> bytes:
        """Link files from this process's memory while the root's token table vouches for them (``linkcache``)."""
        links = self._link_cache()
        return self.get_content(path) if links is None else links.read(path, self.get_content)

    def _link_cache(self) -> LinkCache | None:
        if not self._links_opened:  # on first use: in the worker process, and not for drivers never used
            self._links, self._links_opened = LinkCache.open(str(self.root)), True
        return self._links

    @contextmanager
    def _changing(self, *paths: str) -> Iterator[None]:
        """Announce a change to ``paths`` once it is made (or failed halfway): cached links below them go."""
        try:
            yield
        finally:
            self._announce(*paths)

    def _announce(self, *paths: str) -> None:
        links = self._link_cache()
        if links is not None:
            for path in paths:
                links.changed(path)

    # ---- hooks ----

    def _get_content(self, path: str) -> bytes:
        # Three system calls (open, read, close) for the small files the hot reads are (tag and
        # revision links): no file object, no stat beforehand — reading a directory fails by itself.
        try:
            fd = os.open(self._os_path(path), os.O_RDONLY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError) as err:
            raise PathNotFoundError(path) from err
        try:
            data = os.read(fd, _SMALL_READ)
            if len(data) < _SMALL_READ:  # a regular file's read is short only at its end
                return data
            chunks = [data]
            while chunk := os.read(fd, _LARGE_READ):
                chunks.append(chunk)
            return b"".join(chunks)
        except IsADirectoryError as err:
            raise PathNotFoundError(path, "is a directory") from err
        finally:
            os.close(fd)

    def _put_content(self, path: str, content: bytes) -> None:
        with self._changing(path):
            self._create(self._os_path(path), lambda os_path: self._write_file(os_path, content, self.fsync))

    def _put_volatile(self, path: str, content: bytes) -> None:
        """Atomic as ``put_content``, without its two syncs (~1-10 ms on a disk)."""
        make = lambda os_path: self._write_file(os_path, content, False)  # noqa: E731
        with self._changing(path):
            self._create(self._os_path(path), make, sync=False)

    @staticmethod
    def _write_file(os_path: str, content: bytes, sync: bool) -> None:
        """A new file holding ``content``, through the descriptor alone: a Python file object around it
        would cost three more system calls (``fstat``, ``ioctl``, ``lseek``) per link a manifest PUT writes."""
        fd = os.open(
            os_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666
        )  # the umask applies, unlike mkstemp
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def _create(self, target: str, make: Callable[[str], None], *, sync: bool = True) -> None:
        """Put a file at ``target`` atomically: ``make`` creates it under a fresh hidden name, which is then
        renamed over ``target``. Directories missing above ``target`` are built with the file inside a hidden
        staging directory that is renamed into place, so they appear together with it; when another writer
        creates that directory first, the file moves on into a new stage (or straight into place)."""
        made: str | None = None
        stages: list[str] = []
        parent = os.path.dirname(target)
        renamed_in = parent  # the directory whose entry the final rename changed
        try:
            while True:
                if os.path.isdir(parent):
                    if made is None:
                        made = os.path.join(parent, _TEMP_PREFIX + secrets.token_hex(8))
                        make(made)
                    os.replace(made, target)
                    made = None
                    break
                missing = parent
                while not os.path.isdir(os.path.dirname(missing)):
                    missing = os.path.dirname(missing)
                stage = os.path.join(os.path.dirname(missing), _TEMP_PREFIX + secrets.token_hex(8))
                stages.append(stage)
                staged = stage + target[len(missing) :]
                os.makedirs(os.path.dirname(staged))
                if made is None:
                    make(staged)
                else:
                    os.replace(made, staged)
                made = staged
                if self._rename_stage(stage, missing):
                    stages.pop()  # it is the directory now
                    made, renamed_in = None, os.path.dirname(missing)
                    break
        finally:
            if made is not None:
                with suppress(FileNotFoundError):
                    os.unlink(made)
            for stage in stages:  # left behind: another writer's directory appeared first (or a failure)
                shutil.rmtree(stage, ignore_errors=True)
        if self.fsync and sync:
            # The rename made durable, as distribution does. The staged directories' own entries were
            # created before it: journaling filesystems (ext4, xfs, btrfs) commit metadata in order, so
            # they are durable with it, without a sync per directory level.
            _sync_path(renamed_in)

    @staticmethod
    def _rename_stage(stage: str, missing: str) -> bool:
        """Rename a staging directory to the missing one; False if that appeared meanwhile."""
        try:
            os.rename(stage, missing)
        except OSError as err:
            if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
                return False
            raise
        return True

    def _reader(self, path: str, offset: int) -> BinaryIO:
        with _not_found(path):
            f = open(self._file(path), "rb")  # noqa: SIM115 - the caller owns the stream
        f.seek(offset)
        return f

    def _writer(self, path: str, append: bool) -> FileWriter:
        target = self._os_path(path)
        if append:
            with _not_found(path):
                fd = os.open(self._file(path), os.O_WRONLY | os.O_APPEND)  # no O_CREAT: it must exist
            f = open(fd, "ab", buffering=WRITE_BUFFER)  # noqa: SIM115
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with self._changing(path):  # truncated: a change already
                f = open(target, "wb", buffering=WRITE_BUFFER)  # noqa: SIM115
        changed = None if scope_of(path) is None else partial(self._announce, path)  # not upload data
        return _FilesystemWriter(self, path, target, f, changed)

    def _stat(self, path: str) -> FileInfo:
        with _not_found(path):
            st = os.stat(self._os_path(path))
        is_dir = stat.S_ISDIR(st.st_mode)
        return FileInfo(path, 0 if is_dir else st.st_size, _mtime(st), is_dir)

    def _list_names(self, path: str) -> list[str]:
        try:
            names = os.listdir(self._os_path(path))
        except (FileNotFoundError, NotADirectoryError) as err:
            if path == "/" and not os.path.exists(self.root):
                return []
            raise PathNotFoundError(path) from err
        return [name for name in filter(_NAME_RE.fullmatch, names) if name not in (".", "..")]

    def _directory_token(self, path: str) -> Hashable | None:
        """(inode, mtime, link count) of the directory, once it has been still for a moment.

        Directory timestamps come from a coarse clock (a few milliseconds), so two changes in one
        tick could leave the mtime unchanged; a directory changed less than ``QUIET_NS`` ago gets
        no token. Adding or removing a subdirectory (a tag, a repository) also moves the link count.
        """
        try:
            st = os.stat(self._os_path(path))
        except (FileNotFoundError, NotADirectoryError) as err:
            raise PathNotFoundError(path) from err
        if not stat.S_ISDIR(st.st_mode) or time.time_ns() - st.st_mtime_ns < QUIET_NS:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_nlink)

    def _list(self, path: str) -> list[str]:
        """Names only: no stat per entry (a tags directory can hold thousands)."""
        prefix = path.rstrip("/")
        try:
            with os.scandir(self._os_path(path)) as entries:
                return [f"{prefix}/{entry.name}" for entry in entries if _addressable(entry.name)]
        except (FileNotFoundError, NotADirectoryError) as err:
            if path == "/" and not os.path.exists(self.root):
                return []
            raise PathNotFoundError(path) from err

    def _list_infos(self, path: str) -> list[FileInfo]:
        prefix = path.rstrip("/")
        infos = []
        try:
            with os.scandir(self._os_path(path)) as entries:
                for entry in entries:
                    if not _addressable(entry.name):
                        continue
                    with suppress(FileNotFoundError):  # removed since scandir saw it
                        st = entry.stat()
                        is_dir = stat.S_ISDIR(st.st_mode)
                        size = 0 if is_dir else st.st_size
                        infos.append(FileInfo(f"{prefix}/{entry.name}", size, _mtime(st), is_dir))
        except (FileNotFoundError, NotADirectoryError) as err:
            if path == "/" and not os.path.exists(self.root):
                return []
            raise PathNotFoundError(path) from err
        return infos

    def _move(self, src: str, dst: str) -> None:
        source = self._os_path(src)
        if not os.path.lexists(source):
            raise PathNotFoundError(src)
        target = self._os_path(dst)
        if os.path.isdir(target):
            raise StorageDriverError(dst, "move destination is a directory")
        if self.fsync and not self.sync_closes:  # its writer's close did not sync it
            with _not_found(src):
                _sync_path(source)
        with _not_found(src), self._changing(src, dst):
            self._create(target, lambda made: os.replace(source, made))

    def _delete(self, path: str) -> None:
        target = self._os_path(path)
        with _not_found(path), self._changing(path):
            if os.path.isdir(target) and not os.path.islink(target):
                hidden = os.path.join(os.path.dirname(target), _TEMP_PREFIX + secrets.token_hex(8))
                os.rename(target, hidden)  # gone at once; a crash leaves only a hidden directory
                shutil.rmtree(hidden, ignore_errors=True)
            else:
                os.unlink(target)

    def sweep_stages(self, older_than: float = STALE_STAGE_AGE, *, dry_run: bool = False) -> list[str]:
        """The hidden ``.~tmp-`` entries (files made for an atomic write, staged directories, directories
        renamed away to be deleted) whose inode last changed more than ``older_than`` seconds ago: a live
        one changes within milliseconds of its making, and a rename changes it too. Listings never show
        them, so only this walk finds what a killed process left."""
        cutoff = time.time() - older_than
        found: list[str] = []
        pending = [str(self.root)]
        while pending:
            try:
                entries = os.scandir(pending.pop())
            except (FileNotFoundError, NotADirectoryError):
                continue
            with entries:
                for entry in entries:
                    if not entry.name.startswith(_TEMP_PREFIX):
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        continue
                    with suppress(FileNotFoundError):
                        if entry.stat(follow_symlinks=False).st_ctime < cutoff:
                            found.append(entry.path)
        if not dry_run:
            for os_path in found:
                if os.path.isdir(os_path) and not os.path.islink(os_path):
                    shutil.rmtree(os_path, ignore_errors=True)
                else:
                    with suppress(FileNotFoundError):
                        os.unlink(os_path)
        return sorted("/" + os.path.relpath(os_path, self.root) for os_path in found)

    def _try_claim(self, path: str, ttl: float, shared: bool) -> Claim | None:
        """A byte-range lock in the root's one lock file (see ``rangelocks``); where the platform has no
        OFD locks, an ``flock`` on a lock file at ``path``, removed by the holder on release — always
        exclusive, as a shared holder's removal would let an exclusive one lock a new file beside it."""
        if rangelocks.available():
            return rangelocks.try_lock(str(self.root), path, shared=shared)
        target = self._os_path(path)
        while True:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o666)
            except FileNotFoundError:  # its directory was removed meanwhile
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                same = os.stat(target).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a file the previous holder unlinked after we opened it
                return _FlockClaim(path, target, fd)
            os.close(fd)

    def _local_path(self, path: str) -> str | None:
        target = self._os_path(path)
        if not os.path.isfile(target):
            raise PathNotFoundError(path)
        return target

    def _file(self, path: str) -> str:
        """The OS path of a regular file at ``path``; :class:`PathNotFoundError` for a directory."""
        target = self._os_path(path)
        if os.path.isdir(target):
            raise PathNotFoundError(path, "is a directory")
        return target


class _FlockClaim(Claim):
    """Held while the descriptor is open and locked; the kernel releases it if the process dies."""

    def __init__(self, path: str, target: str, fd: int) -> None:
        super().__init__(path)
        self._target = target
        self._fd = fd

    def _release(self) -> None:
        try:
            with suppress(FileNotFoundError):
                os.unlink(self._target)  # still locked: a waiter that opened it will see another inode
        finally:
            os.close(self._fd)


@cache
def _sync_file_range() -> Callable[[int], None] | None:
    """Linux ``sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)``: start writing a file's dirty pages
    back without waiting for them; None where libc has no such call."""
    import ctypes  # only writers that sync need it

    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]

    def start(fd: int) -> None:
        call(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)  # a hint: a failure leaves all of it to the final fsync

    return start


_SYNC_FILE_RANGE_WRITE = 2
#: With ``fsync``, a writer starts the disk on what it wrote every this many bytes (see ``_FilesystemWriter``).
WRITEBACK_EVERY = 4 << 20


class _FilesystemWriter(FileWriter):
    """A buffered file handle; ``close`` and ``commit`` flush and (with ``fsync``) sync it to disk.

    With ``fsync`` on a disk, the body goes around the page cache in aligned ``O_DIRECT`` blocks (see
    ``direct``: the kernel's writeback of dirty pages is what made a synced body slow). Elsewhere, every
    ``WRITEBACK_EVERY`` bytes the writer starts the disk on what it holds so far (without waiting), so the
    sync that acknowledges a large body finds little left to write.
    """

    def __init__(
        self,
        driver: FilesystemDriver,
        path: str,
        target: str,
        f: BinaryIO,
        changed: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(driver.name, path, f.seek(0, os.SEEK_END))
        self._changed = changed  # announces the change to the link cache, where the path holds links
        self._fsync = driver.fsync
        self._sync_closes = driver.fsync and driver.sync_closes
        self._target = target
        self._file = f
        self._unsynced = 0
        self._direct: direct.DirectAppender | None = None
        if driver.direct and not direct.refused(str(driver.root)):
            self._direct = direct.DirectAppender(str(driver.root), target, f, self.size)

    def _write(self, data: bytes) -> None:
        if self._direct is not None and self._direct.active:
            self._direct.append(data)
            return
        self._file.write(data)
        if self._fsync:
            self._unsynced += len(data)
            if self._unsynced >= WRITEBACK_EVERY:
                self._start_writeback()

    def _start_writeback(self) -> None:
        self._unsynced = 0
        start = _sync_file_range()
        if start is not None:
            self._file.flush()
            start(self._file.fileno())

    def _close(self) -> None:
        self._sync_and_close(self._sync_closes)

    def _cancel(self) -> None:
        try:
            with suppress(FileNotFoundError):
                os.unlink(self._target)
        finally:
            if self._changed is not None:
                self._changed()

    def _commit(self) -> None:
        self._sync_and_close(self._fsync)

    def _sync_and_close(self, sync: bool) -> None:
        try:
            if self._direct is not None:
                self._direct.drain()
            self._file.flush()
            if sync:
                os.fsync(self._file.fileno())
        finally:
            self._file.close()
            if self._changed is not None:
                self._changed()
