"""Tag lists remembered under the directory token: fresh after any process adds or removes a tag."""

from __future__ import annotations

import time
from pathlib import Path

from registry_impl.storage.driver.filesystem import QUIET_NS, FilesystemDriver
from registry_impl.storage.registry import Registry

DIGEST = "sha256:" + "a" * 64


def _settle() -> None:
    time.sleep(QUIET_NS / 1e9 * 1.5)


def test_cached_tag_list_sees_other_processes(tmp_path: Path) -> None:
    writer = Registry(FilesystemDriver(rootdirectory=str(tmp_path), fsync=False))
    reader = Registry(FilesystemDriver(rootdirectory=str(tmp_path), fsync=False))
    for tag in ("b", "a"):
        writer.repository("app").tags.tag(tag, DIGEST)
    _settle()
    assert reader.repository("app").tags.all() == ["a", "b"]
    assert reader.listings._entries, "a quiet directory's listing is remembered"
    writer.repository("app").tags.tag("c", DIGEST)
    assert reader.repository("app").tags.all() == ["a", "b", "c"]  # changed just now: no token, listed again
    _settle()
    assert reader.repository("app").tags.all() == ["a", "b", "c"]
    writer.repository("app").tags.untag("a")
    writer.repository("app").tags.tag("d", DIGEST)
    _settle()
    assert reader.repository("app").tags.all() == ["b", "c", "d"]


def test_remembered_listing_is_served_without_listing(tmp_path: Path, monkeypatch: object) -> None:
    registry = Registry(FilesystemDriver(rootdirectory=str(tmp_path), fsync=False))
    registry.repository("app").tags.tag("v1", DIGEST)
    _settle()
    assert registry.repository("app").tags.all() == ["v1"]
    calls: list[str] = []
    original = registry.driver.list_names

    def counting(path: str) -> list[str]:
        calls.append(path)
        return original(path)

    registry.driver.list_names = counting  # type: ignore[method-assign]
    assert registry.repository("app").tags.all() == ["v1"]
    assert calls == []
