"""When each proxied tag was last checked against its upstream (the ttl bookkeeping).

One small file per tag, ``_proxy/<name>/_tags/<tag>``, holding the Unix time of the last check, beside
the registry's own layout (a ``_``-prefixed top-level directory: no repository, and no walk of the
repositories tree, sees it). Every worker and replica sharing the storage shares it.
"""

from __future__ import annotations

import time
from datetime import timedelta

from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver

__all__ = ["checked", "is_fresh", "mark_checked"]


def _path(name: str, tag: str) -> str:
    return f"{paths.ROOT}/_proxy/{name}/_tags/{tag}"


def checked(driver: StorageDriver, name: str, tag: str) -> float | None:
    """When ``tag`` was last checked (Unix time), None if never."""
    try:
        return float(driver.get_content(_path(name, tag)).decode())
    except (PathNotFoundError, ValueError):
        return None


def is_fresh(driver: StorageDriver, name: str, tag: str, ttl: timedelta) -> bool:
    """Whether the tag was checked less than ``ttl`` ago (a ttl of 0 never expires)."""
    when = checked(driver, name, tag)
    if when is None:
        return False
    return ttl == timedelta(0) or time.time() - when < ttl.total_seconds()


def mark_checked(driver: StorageDriver, name: str, tag: str) -> None:
    driver.put_content(_path(name, tag), repr(time.time()).encode())
