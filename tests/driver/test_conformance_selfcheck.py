"""The conformance suite itself: it must catch leaks and broken drivers, not just pass good ones."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from registry_impl.storage.driver.base import FileInfo, FileWriter
from registry_impl.storage.driver.conformance import DriverConformance, Scratch, payload
from registry_impl.storage.driver.inmemory import InMemoryDriver

pytestmark = pytest.mark.driver
Failed = (AssertionError, pytest.fail.Exception)


class _LeakyPut(InMemoryDriver):
    """Leaves a backup copy next to every file it writes."""

    def _put_content(self, path: str, content: bytes) -> None:
        super()._put_content(path, content)
        super()._put_content(path + ".bak", content)


class _StringOrderWalk(InMemoryDriver):
    """Walks in plain string order, as a naive object-store listing would."""

    def _walk(
        self, path: str, start_after: str | None, skip: Callable[[FileInfo], bool] | None = None
    ) -> Iterator[FileInfo]:
        return iter(sorted(super()._walk(path, None, skip), key=lambda info: info.path))


class _KeepOnCancel(InMemoryDriver):
    def _writer(self, path: str, append: bool) -> FileWriter:
        writer = super()._writer(path, append)
        writer._cancel = lambda: None  # type: ignore[method-assign]
        return writer


class _TornPut(InMemoryDriver):
    """Writes in two steps, so a reader can see half a value."""

    def _put_content(self, path: str, content: bytes) -> None:
        super()._put_content(path, content[: len(content) // 2])
        time.sleep(0.01)  # hold the torn value long enough for a spinning reader, even on a loaded machine
        super()._put_content(path, content)


def test_cleanup_reports_leaked_files() -> None:
    scratch = Scratch(_LeakyPut())
    scratch.driver.put_content(scratch.path("f"), b"x")
    assert scratch.cleanup() == [f"{scratch.root}/f.bak"]


def test_cleanup_of_a_good_driver_is_silent() -> None:
    driver = InMemoryDriver()
    scratch = Scratch(driver)
    driver.put_content(scratch.path("a", "b"), payload(10))
    assert scratch.cleanup() == []
    assert driver.list("/") == []


def test_string_order_walk_is_caught() -> None:
    driver = _StringOrderWalk()
    with pytest.raises(Failed):
        DriverConformance().test_walk_order(driver, Scratch(driver))


def test_cancel_that_keeps_the_file_is_caught() -> None:
    driver = _KeepOnCancel()
    with pytest.raises(Failed):
        DriverConformance().test_writer_cancel(driver, Scratch(driver), False)


def test_torn_put_is_caught() -> None:
    driver = _TornPut()
    for _ in range(20):  # a race: give it a few chances
        try:
            DriverConformance().test_concurrent_put_same_path(driver, Scratch(driver))
        except Failed:
            return
    pytest.fail("a non-atomic put_content went unnoticed")
