"""The in-memory storage driver: a thread-safe tree of byte files, for tests and throwaway registries."""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from registry_impl.storage.driver.base import (
    FileInfo,
    FileWriter,
    PathNotFoundError,
    StorageDriver,
    StorageDriverError,
)

__all__ = ["InMemoryDriver"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _File:
    data: bytes | bytearray
    mod_time: datetime = field(default_factory=_now)


@dataclass
class _Dir:
    children: dict[str, _File | _Dir] = field(default_factory=dict)
    mod_time: datetime = field(default_factory=_now)


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _split(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition("/")
    return parent or "/", name


class InMemoryDriver(StorageDriver):
    """Files live in nested dicts guarded by one lock; nothing survives the process.

    Data is kept as ``bytes`` while it is read and as ``bytearray`` while it is appended to, so readers share
    the buffer without copying and chunked uploads append in amortised constant time.
    """

    name = "inmemory"

    def __init__(self) -> None:
        self._root = _Dir()
        self._lock = threading.RLock()

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> InMemoryDriver:
        """Build from distribution's config keys: the in-memory driver takes none."""
        if params:
            raise ValueError(f"inmemory driver takes no parameters, got {sorted(params)}")
        return cls()

    # ---- tree helpers (call with the lock held) ----

    def _find(self, path: str) -> _File | _Dir:
        node: _File | _Dir = self._root
        for part in _parts(path):
            if not isinstance(node, _Dir) or part not in node.children:
                raise PathNotFoundError(path)
            node = node.children[part]
        return node

    def _find_file(self, path: str) -> _File:
        node = self._find(path)
        if not isinstance(node, _File):
            raise PathNotFoundError(path, "not a file")
        return node

    def _make_dirs(self, path: str) -> _Dir:
        node = self._root
        for part in _parts(path):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Dir()
                node.mod_time = _now()
            if not isinstance(child, _Dir):
                raise StorageDriverError(path, "a parent is a file")
            node = child
        return node

    def _attach(self, path: str, node: _File | _Dir) -> None:
        parent_path, name = _split(path)
        parent = self._make_dirs(parent_path)
        if isinstance(parent.children.get(name), _Dir):
            raise StorageDriverError(path, "is a directory")
        parent.children[name] = node
        parent.mod_time = _now()

    def _detach(self, path: str, expected: _File | _Dir | None = None) -> None:
        parent_path, name = _split(path)
        parent = self._find(parent_path)
        if not isinstance(parent, _Dir) or name not in parent.children:
            raise PathNotFoundError(path)
        if expected is None or parent.children[name] is expected:
            del parent.children[name]
            parent.mod_time = _now()

    # ---- hooks ----

    def _get_content(self, path: str) -> bytes:
        with self._lock:
            return bytes(self._find_file(path).data)

    def _put_content(self, path: str, content: bytes) -> None:
        with self._lock:
            self._attach(path, _File(content))

    def _reader(self, path: str, offset: int) -> BinaryIO:
        with self._lock:
            node = self._find_file(path)
            if isinstance(node.data, bytearray):
                node.data = bytes(node.data)
            stream = io.BytesIO(node.data)  # shares the immutable bytes, no copy
        stream.seek(offset)
        return stream

    def _writer(self, path: str, append: bool) -> FileWriter:
        with self._lock:
            if append:
                node = self._find_file(path)
            else:
                node = _File(bytearray())
                self._attach(path, node)
            return _InMemoryWriter(self, path, node)

    def _stat(self, path: str) -> FileInfo:
        with self._lock:
            node = self._find(path)
            if isinstance(node, _Dir):
                return FileInfo(path, 0, node.mod_time, True)
            return FileInfo(path, len(node.data), node.mod_time, False)

    def _list(self, path: str) -> list[str]:
        with self._lock:
            node = self._find(path)
            if not isinstance(node, _Dir):
                raise PathNotFoundError(path, "not a directory")
            prefix = path.rstrip("/")
            return [f"{prefix}/{name}" for name in node.children]

    def _list_infos(self, path: str) -> list[FileInfo]:
        with self._lock:
            return [self._stat(child) for child in self._list(path)]

    def _move(self, src: str, dst: str) -> None:
        with self._lock:
            node = self._find(src)
            if src == dst:
                return
            if dst.startswith(src + "/"):
                raise StorageDriverError(src, f"cannot move into itself: {dst}")
            self._attach(dst, node)
            self._detach(src, node)

    def _delete(self, path: str) -> None:
        with self._lock:
            self._detach(path)

    # ---- used by the writer ----

    def _append(self, node: _File, data: bytes) -> None:
        with self._lock:
            if not isinstance(node.data, bytearray):
                node.data = bytearray(node.data)
            node.data += data
            node.mod_time = _now()

    def _remove(self, path: str, node: _File) -> None:
        with self._lock, suppress(PathNotFoundError):  # already gone: nothing to remove
            self._detach(path, node)


class _InMemoryWriter(FileWriter):
    """Appends straight into the file node; there is nothing to flush or sync."""

    def __init__(self, driver: InMemoryDriver, path: str, node: _File) -> None:
        super().__init__(driver.name, path, len(node.data))
        self._driver = driver
        self._node = node

    def _write(self, data: bytes) -> None:
        self._driver._append(self._node, data)

    def _close(self) -> None:
        pass

    def _cancel(self) -> None:
        self._driver._remove(self.path, self._node)

    def _commit(self) -> None:
        pass
