"""The driver factory: built-ins by name, registration, entry points, config params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from registry_impl.storage.driver import factory
from registry_impl.storage.driver.filesystem import DEFAULT_ROOT, FilesystemDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver

pytestmark = pytest.mark.unit


class _Custom(InMemoryDriver):
    name = "custom"


@pytest.fixture(autouse=True)
def _clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factory, "_registered", {})


def test_builtins() -> None:
    assert isinstance(factory.create("inmemory", {}), InMemoryDriver)
    assert isinstance(factory.create("inmemory", None), InMemoryDriver)
    assert {"filesystem", "inmemory"} <= set(factory.available())


def test_filesystem_from_distribution_keys(tmp_path: Path) -> None:
    driver = factory.create("filesystem", {"rootdirectory": str(tmp_path), "maxthreads": 100})
    assert isinstance(driver, FilesystemDriver) and driver.root == tmp_path
    default = factory.create("filesystem", {})
    assert isinstance(default, FilesystemDriver) and str(default.root) == DEFAULT_ROOT


@pytest.mark.parametrize(("name", "params"), [("filesystem", {"rootdir": "/x"}), ("inmemory", {"a": 1})])
def test_unknown_params_rejected(name: str, params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="param"):
        factory.create(name, params)


def test_unknown_driver() -> None:
    with pytest.raises(ValueError, match="unknown storage driver 'nope'"):
        factory.create("nope", {})


def test_register() -> None:
    factory.register("custom", _Custom)
    factory.register("custom", _Custom)  # idempotent for the same class
    assert isinstance(factory.create("custom", {}), _Custom)
    assert "custom" in factory.available()
    with pytest.raises(ValueError, match="already registered"):
        factory.register("custom", InMemoryDriver)
    with pytest.raises(TypeError):
        factory.register("bad", dict)  # type: ignore[arg-type]


class _EntryPoint:
    def __init__(self, name: str, target: type) -> None:
        self.name, self._target = name, target

    def load(self) -> type:
        return self._target


def test_entry_point_group(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def entry_points(group: str) -> list[_EntryPoint]:
        seen.append(group)
        return [_EntryPoint("plugin", _Custom)]

    monkeypatch.setattr(factory, "entry_points", entry_points)
    assert isinstance(factory.create("plugin", {}), _Custom)
    assert seen == ["registry_impl.storage.drivers"]
    assert "plugin" in factory.available()
