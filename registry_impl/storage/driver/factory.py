"""Storage drivers by name (built-ins, registered classes, an entry-point group), built from config keys.

Out-of-tree drivers are found in the ``registry_impl.storage.drivers`` entry-point group.
A driver class is built with its ``from_params(params)`` classmethod when it has one, else ``cls(**params)``.
Built-ins are imported lazily, so a backend's dependencies load only when it is configured.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from registry_impl.storage.driver.base import StorageDriver

__all__ = ["ENTRY_POINT_GROUP", "available", "create", "get", "register"]

ENTRY_POINT_GROUP = "registry_impl.storage.drivers"

_BUILTIN: dict[str, str] = {
    "inmemory": "registry_impl.storage.driver.inmemory:InMemoryDriver",
    "filesystem": "registry_impl.storage.driver.filesystem:FilesystemDriver",
    "s3": "registry_impl.storage.driver.s3:S3Driver",
}
_registered: dict[str, type[StorageDriver]] = {}


def entry_points(group: str) -> Any:
    """``importlib.metadata.entry_points``, imported when first called: a server whose driver is built in
    never loads it (~3 MiB and ~30 ms in every process)."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def register(name: str, cls: type[StorageDriver]) -> None:
    """Make ``cls`` available as ``name``; registering another class under a taken name is an error."""
    if not (isinstance(cls, type) and issubclass(cls, StorageDriver)):
        raise TypeError(f"{cls!r} is not a StorageDriver subclass")
    existing = _registered.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"storage driver {name!r} already registered as {existing.__qualname__}")
    _registered[name] = cls


def get(name: str) -> type[StorageDriver]:
    """The driver class called ``name``: registered, built-in, or from the entry-point group."""
    if name in _registered:
        return _registered[name]
    if name in _BUILTIN:
        module_name, _, class_name = _BUILTIN[name].partition(":")
        loaded = getattr(importlib.import_module(module_name), class_name)
    else:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not found:
            raise ValueError(f"unknown storage driver {name!r}; available: {', '.join(available())}")
        loaded = found[0].load()
    register(name, loaded)
    return _registered[name]


def create(name: str, params: Mapping[str, Any] | None = None) -> StorageDriver:
    """Build the driver ``name`` from its config keys, e.g. ``create("filesystem", {"rootdirectory": p})``."""
    cls = get(name)
    params = dict(params or {})
    from_params = getattr(cls, "from_params", None)
    driver = from_params(params) if callable(from_params) else cls(**params)
    if not isinstance(driver, StorageDriver):
        raise TypeError(f"storage driver {name!r} built {driver!r}, not a StorageDriver")
    return driver


def available() -> list[str]:
    """Sorted names of every driver ``create`` can build."""
    names = set(_BUILTIN) | set(_registered)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)
