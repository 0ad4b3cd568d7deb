"""The storage driver contract: a dumb key/value store over absolute paths, validated in one place.

A backend subclasses :class:`StorageDriver` and implements raw I/O in the ``_hook`` methods only. The public
methods (template methods) validate paths, stamp the driver name on errors and turn any other backend
exception into a :class:`StorageDriverError`; registry meaning lives in ``registry_impl.storage.paths``.

Paths look like ``/docker/registry/v2/blobs/sha256/ab/abcd.../data``: they match distribution's
``^(/[A-Za-z0-9._-]+)+$``. Unlike distribution we also reject the components ``.`` and ``..``: they match the
character class but would alias or escape the root on a filesystem. The root ``/`` is accepted only by
``list``, ``stat`` and ``walk``.

Walk order is depth-first, pre-order, children sorted by name: a directory comes before everything under it,
and ``/a/b/c`` comes before ``/a/b-x`` (component-wise order, not plain string order).

The exceptions::

    StorageDriverError          any backend failure; carries driver_name and path
    ├── PathNotFoundError       nothing (or no file/directory of the needed kind) at the path
    ├── InvalidPathError        the path does not match the grammar
    └── InvalidOffsetError      a negative reader offset
"""

from __future__ import annotations

import builtins
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import BinaryIO, ClassVar, TypeVar

from registry_impl.storage.driver.claims import CLAIM_TTL, Claim, LocalClaims

#: A staging entry untouched this long (seconds) belongs to no write in progress: the one that made it died.
#: Writes stage for milliseconds (a small file, a rename, a directory being deleted), so an hour is far.
STALE_STAGE_AGE = 3600.0

__all__ = [
    "FileInfo",
    "FileWriter",
    "InvalidOffsetError",
    "InvalidPathError",
    "PathNotFoundError",
    "StorageDriver",
    "StorageDriverError",
    "check_path",
    "walk_key",
]

T = TypeVar("T")
_PATH_RE = re.compile(r"(/[A-Za-z0-9._-]+)+")  # used with fullmatch: "$" would accept a final "\n"


class StorageDriverError(Exception):
    """A storage backend failed; ``driver_name`` is stamped by the base class when the backend left it out."""

    default_message: ClassVar[str] = "storage driver error"

    def __init__(self, path: str = "", message: str = "", driver_name: str = "") -> None:
        super().__init__(path, message, driver_name)
        self.path = path
        self.message = message or self.default_message
        self.driver_name = driver_name

    def __str__(self) -> str:
        where = f": {self.path}" if self.path else ""
        return f"{self.driver_name or 'storage'}: {self.message}{where}"


class PathNotFoundError(StorageDriverError):
    default_message = "path not found"


class InvalidPathError(StorageDriverError):
    default_message = "invalid path"


class InvalidOffsetError(StorageDriverError):
    default_message = "invalid offset"

    def __init__(self, path: str = "", offset: int = 0, driver_name: str = "") -> None:
        super().__init__(path, f"invalid offset {offset}", driver_name)
        self.offset = offset


@dataclass(frozen=True)
class FileInfo:
    """What ``stat`` knows about a path; ``size`` is 0 for directories, ``mod_time`` is timezone-aware UTC."""

    path: str
    size: int
    mod_time: datetime
    is_dir: bool
    #: Where a backend can say it (S3: the object's ETag and a pending upload's part chain), an identity of
    #: the file's current bytes that changes whenever they do, same size or not; None elsewhere.
    version: str | None = None


def check_path(path: str, *, allow_root: bool = False, driver_name: str = "") -> None:
    """Raise :class:`InvalidPathError` unless ``path`` is a valid driver path (``/`` if ``allow_root``)."""
    if allow_root and path == "/":
        return
    dotted = "/." in path and any(part in (".", "..") for part in path.split("/"))  # a "." part starts "/."
    if dotted or not _PATH_RE.fullmatch(path):
        raise InvalidPathError(path, driver_name=driver_name)


def walk_key(path: str) -> tuple[str, ...]:
    """The sort key of walk order: paths compared component by component."""
    return tuple(part for part in path.split("/") if part)


def _driver_error(err: Exception, driver_name: str, path: str) -> StorageDriverError:
    """A driver error with the driver name and path stamped on it; any other exception wrapped in one."""
    if isinstance(err, StorageDriverError):
        err.driver_name = err.driver_name or driver_name
        err.path = err.path or path
        return err
    return StorageDriverError(path, f"{type(err).__name__}: {err}", driver_name)


@contextmanager
def translate_errors(driver_name: str, path: str) -> Iterator[None]:
    """Stamp the driver name on driver errors; wrap any other exception in a :class:`StorageDriverError`."""
    try:
        yield
    except Exception as err:
        translated_err = _driver_error(err, driver_name, path)
        if translated_err is err:
            raise
        raise translated_err from err


def translated(driver_name: str, call: Callable[[str], T], path: str) -> T:
    """``call(path)`` under ``translate_errors``, without a context manager's cost (for the hot calls)."""
    try:
        return call(path)
    except Exception as err:
        translated_err = _driver_error(err, driver_name, path)
        if translated_err is err:
            raise
        raise translated_err from err


class FileWriter(ABC):
    """A handle that streams bytes to one path; ``size`` counts what the file holds, resumed bytes included.

    ``close`` keeps what was written (an ``append=True`` writer can resume it later); ``commit`` also makes
    it durable and ends the handle; ``cancel`` removes the file. ``close`` is idempotent and is what the
    context manager calls; writing after ``close``/``commit``/``cancel`` raises :class:`StorageDriverError`.
    """

    def __init__(self, driver_name: str, path: str, size: int = 0) -> None:
        self.driver_name = driver_name
        self.path = path
        self._size = size
        self._state = "open"
        #: After ``close``, the ``FileInfo.version`` of what it published, where the backend has versions.
        self.version: str | None = None

    @property
    def size(self) -> int:
        return self._size

    def write(self, data: bytes) -> int:
        self._require_open()
        with translate_errors(self.driver_name, self.path):
            self._write(data)
        self._size += len(data)
        return len(data)

    def close(self) -> None:
        if self._state != "open":
            return
        self._state = "closed"
        with translate_errors(self.driver_name, self.path):
            self._close()

    def abandon(self) -> None:
        """Close without publishing what this handle wrote, where the backend publishes at ``close`` (S3:
        the file stays as the last ``close`` left it); elsewhere, where bytes land as they are written, the
        same as ``close``. For a holder that lost its claim on the file mid-write."""
        if self._state != "open":
            return
        self._abandon()
        self.close()

    def _abandon(self) -> None:  # noqa: B027 - backends that write in place have nothing to hold back
        """Make the coming ``_close`` publish nothing."""

    def cancel(self) -> None:
        if self._state in ("committed", "cancelled"):
            raise StorageDriverError(self.path, f"writer already {self._state}", self.driver_name)
        was_open, self._state = self._state == "open", "cancelled"
        with translate_errors(self.driver_name, self.path):
            if was_open:
                self._close()
            self._cancel()

    def commit(self) -> None:
        self._require_open()
        self._state = "committed"
        with translate_errors(self.driver_name, self.path):
            self._commit()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _require_open(self) -> None:
        if self._state != "open":
            raise StorageDriverError(self.path, f"writer already {self._state}", self.driver_name)

    @abstractmethod
    def _write(self, data: bytes) -> None:
        """Write all of ``data`` (buffering is allowed until close/commit)."""

    @abstractmethod
    def _close(self) -> None:
        """Flush and release the handle; what was written stays."""

    @abstractmethod
    def _cancel(self) -> None:
        """Remove the file (the handle is already closed)."""

    @abstractmethod
    def _commit(self) -> None:
        """Flush, make durable and release the handle."""


class StorageDriver(ABC):
    """A dumb key/value store of byte files under absolute paths; directories are implied by file paths.

    Subclasses set ``name`` and implement the abstract hooks; ``_walk`` and ``_list_infos`` have slow
    default implementations built on ``_list``/``_stat`` that a backend may override. Hooks receive
    validated paths and may raise :class:`PathNotFoundError` (without a driver name) or anything else.
    """

    name: ClassVar[str]
    remote: ClassVar[bool] = False
    #: Whether a durable write waits for a device (the filesystem driver syncing to a disk).
    syncs_wait: bool = False

    # ---- public API (template methods) ----

    def get_content(self, path: str) -> bytes:
        """The whole file; :class:`PathNotFoundError` if there is no file at ``path``."""
        check_path(path, driver_name=self.name)
        return translated(self.name, self._get_content, path)  # the hot reads (tags, links) come through here

    def get_content_cached(self, path: str) -> bytes:
        """``get_content`` for the answer of a read-only request (a tag or revision link on a manifest GET).

        A backend may answer from a cache that every change made through a driver on the same storage, in
        any process, invalidates before that change is acknowledged, and that sees changes made around the
        drivers within seconds (see ``linkcache``). Never for a write that decides from the content. The
        default reads the file.
        """
        return self.get_content(path)

    def put_content(self, path: str, content: bytes, *, durable: bool = True) -> None:
        """Replace the file atomically (readers see old or new, never partial), creating parents.

        ``durable=False`` is for content that can be rebuilt (a cache, such as an upload's saved hash
        state): it may be lost in a crash, so a backend may skip the sync it owes durable content.
        """
        check_path(path, driver_name=self.name)
        with translate_errors(self.name, path):
            if durable:
                self._put_content(path, bytes(content))
            else:
                self._put_volatile(path, bytes(content))

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        """A readable, closeable stream from ``offset``; empty if ``offset`` is at or past the end."""
        check_path(path, driver_name=self.name)
        if offset < 0:
            raise InvalidOffsetError(path, offset, self.name)
        with translate_errors(self.name, path):
            return self._reader(path, offset)

    def writer(self, path: str, append: bool = False) -> FileWriter:
        """A writer that truncates/creates the file, or resumes it with ``append`` (which requires it)."""
        check_path(path, driver_name=self.name)
        with translate_errors(self.name, path):
            return self._writer(path, append)

    def stat(self, path: str) -> FileInfo:
        """Describe a file or directory; :class:`PathNotFoundError` if nothing is there."""
        check_path(path, allow_root=True, driver_name=self.name)
        with translate_errors(self.name, path):
            return self._stat(path)

    def list(self, path: str) -> list[str]:
        """Sorted full paths of the direct children of a directory (``/`` may be empty)."""
        check_path(path, allow_root=True, driver_name=self.name)
        with translate_errors(self.name, path):
            return sorted(self._list(path))

    def list_names(self, path: str) -> builtins.list[str]:
        """Sorted names (not paths) of the direct children of a directory; ``list`` without the joins.

        Optional: the default derives it from ``list``; a backend may answer it more cheaply.
        """
        check_path(path, allow_root=True, driver_name=self.name)
        with translate_errors(self.name, path):
            return sorted(self._list_names(path))

    def directory_token(self, path: str) -> Hashable | None:
        """A value that changes whenever the set of entries in directory ``path`` changes, or None.

        Callers may cache what they derived from a listing under this token. None means "no token
        can be trusted now" (the default: backends that cannot tell, or a directory changed so
        recently that a further change might not move the token), and the caller lists again.
        """
        check_path(path, allow_root=True, driver_name=self.name)
        return translated(self.name, self._directory_token, path)  # once per directory a catalog page walks

    def move(self, src: str, dst: str) -> None:
        """Move a file, replacing ``dst`` if it exists and creating its parents; atomic where possible."""
        check_path(src, driver_name=self.name)
        check_path(dst, driver_name=self.name)
        with translate_errors(self.name, src):
            self._move(src, dst)

    def delete(self, path: str) -> None:
        """Delete a file, or a directory with everything under it; :class:`PathNotFoundError` if missing."""
        check_path(path, driver_name=self.name)
        with translate_errors(self.name, path):
            self._delete(path)

    def redirect_url(self, method: str, path: str) -> str | None:
        """A URL a client may be redirected to for ``method`` on ``path``, or None to serve it directly."""
        check_path(path, driver_name=self.name)
        with translate_errors(self.name, path):
            return self._redirect_url(method, path)

    def walk(
        self, path: str, start_after: str | None = None, skip: Callable[[FileInfo], bool] | None = None
    ) -> Iterator[FileInfo]:
        """Every file and directory under ``path`` in walk order, only those strictly after ``start_after``;
        a directory for which ``skip`` is true is yielded and its contents are not (distribution's
        ``ErrSkipDir``).

        The path is validated now; :class:`PathNotFoundError` for a missing ``path`` is raised on iteration.
        """
        check_path(path, allow_root=True, driver_name=self.name)
        if start_after is not None:
            check_path(start_after, driver_name=self.name)
        return self._translated_walk(path, start_after, skip)

    def sweep_stages(
        self, older_than: float = STALE_STAGE_AGE, *, dry_run: bool = False
    ) -> builtins.list[str]:
        """Remove (or, with ``dry_run``, only list) what writes that died midway (kill -9, a power loss) left in
        their staging places, untouched for ``older_than`` seconds; their paths. Optional: a backend that
        writes in place has nothing to sweep (the default)."""
        return []

    def try_claim(self, path: str, ttl: float = CLAIM_TTL, *, shared: bool = False) -> Claim | None:
        """Exclusive ownership of ``path`` (see :mod:`.claims`), or None while another holder has it;
        ``shared``: held alongside other shared claims of ``path``, never alongside an exclusive one (a
        backend that cannot share grants it exclusively).

        ``path`` names the claim; it is not a file the registry reads (a backend may keep a lock file or
        a lease object there). Optional: the default holds claims in this process only, which is right
        only for storage no other process shares; shared backends override it.
        """
        check_path(path, driver_name=self.name)
        with translate_errors(self.name, path):
            return self._try_claim(path, ttl, shared)

    def local_path(self, path: str) -> str | None:
        """The operating-system path of the file, for zero-copy sending; None for non-local backends."""
        check_path(path, driver_name=self.name)
        with translate_errors(self.name, path):
            return self._local_path(path)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # ---- hooks ----

    @abstractmethod
    def _get_content(self, path: str) -> bytes: ...

    @abstractmethod
    def _put_content(self, path: str, content: bytes) -> None: ...

    def _put_volatile(self, path: str, content: bytes) -> None:
        """``put_content(durable=False)``; the default writes it as durable content."""
        self._put_content(path, content)

    @abstractmethod
    def _reader(self, path: str, offset: int) -> BinaryIO: ...

    @abstractmethod
    def _writer(self, path: str, append: bool) -> FileWriter: ...

    @abstractmethod
    def _stat(self, path: str) -> FileInfo: ...

    @abstractmethod
    def _list(self, path: str) -> builtins.list[str]: ...

    @abstractmethod
    def _move(self, src: str, dst: str) -> None: ...

    @abstractmethod
    def _delete(self, path: str) -> None: ...

    def _redirect_url(self, method: str, path: str) -> str | None:
        return None

    def _list_names(self, path: str) -> builtins.list[str]:
        return [child.rsplit("/", 1)[1] for child in self._list(path)]

    def _directory_token(self, path: str) -> Hashable | None:
        return None

    def _local_path(self, path: str) -> str | None:
        return None

    def _try_claim(self, path: str, ttl: float, shared: bool) -> Claim | None:
        claims: LocalClaims = self.__dict__.setdefault("_local_claims", LocalClaims())
        return claims.try_claim(path, shared=shared)

    def _list_infos(self, path: str) -> builtins.list[FileInfo]:
        """FileInfo of each direct child of ``path`` (any order); children vanishing meanwhile are skipped."""
        infos: builtins.list[FileInfo] = []
        for child in self._list(path):
            try:
                infos.append(self._stat(child))
            except PathNotFoundError:
                continue
        return infos

    def _walk(
        self, path: str, start_after: str | None, skip: Callable[[FileInfo], bool] | None = None
    ) -> Iterator[FileInfo]:
        """Default walk: recursive ``_list_infos``, pruning subtrees wholly before ``start_after`` and those
        ``skip`` names."""
        after = walk_key(start_after) if start_after is not None else None
        for info in sorted(self._list_infos(path), key=lambda i: walk_key(i.path)):
            key = walk_key(info.path)
            if after is None or key > after:
                yield info
            elif not (info.is_dir and after[: len(key)] == key):
                continue  # entirely before start_after
            if info.is_dir and not (skip is not None and skip(info)):
                inner_after = start_after if after is not None and key < after else None
                with suppress(PathNotFoundError):  # removed while we walked
                    yield from self._walk(info.path, inner_after, skip)

    def _translated_walk(
        self, path: str, start_after: str | None, skip: Callable[[FileInfo], bool] | None
    ) -> Iterator[FileInfo]:
        with translate_errors(self.name, path):
            yield from self._walk(path, start_after, skip)
