"""Directory listings remembered under the driver's directory token (tag lists of large repositories).

An entry is used only while ``StorageDriver.directory_token`` returns the token it was stored
under, so a tag added or removed by any process is seen on the next read; backends that give no
token are simply listed every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from registry_impl.storage.driver.base import StorageDriver


class ListingCache:
    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Hashable, list[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def names(self, driver: StorageDriver, path: str) -> list[str]:
        """Sorted child names of directory ``path`` (PathNotFoundError when it is missing)."""
        token = driver.directory_token(path)
        if token is not None:
            with self._lock:
                entry = self._entries.get(path)
                if entry is not None and entry[0] == token:
                    self._entries.move_to_end(path)
                    return entry[1]
        names = driver.list_names(path)
        if token is not None and driver.directory_token(path) == token:  # unchanged while we listed
            with self._lock:
                self._entries[path] = (token, names)
                self._entries.move_to_end(path)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return names
