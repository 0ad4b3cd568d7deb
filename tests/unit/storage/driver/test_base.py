"""The base driver: path grammar, walk order, error stamping and wrapping."""

from __future__ import annotations

import pytest

from registry_impl.storage.driver.base import (
    InvalidPathError,
    PathNotFoundError,
    StorageDriverError,
    check_path,
    walk_key,
)
from registry_impl.storage.driver.inmemory import InMemoryDriver

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("path", ["/a", "/a/b", "/A-Z_a-z.0-9", "/.a", "/a..", "/...", "/-/_"])
def test_valid_paths(path: str) -> None:
    check_path(path)


@pytest.mark.parametrize("path", ["", "/", "a", "/a/", "/a//b", "/a b", "/.", "/..", "/a/../b", "/a\n", "/ä"])
def test_invalid_paths(path: str) -> None:
    with pytest.raises(InvalidPathError) as info:
        check_path(path, driver_name="x")
    assert (info.value.path, info.value.driver_name) == (path, "x")


def test_root_allowed_only_on_request() -> None:
    check_path("/", allow_root=True)
    with pytest.raises(InvalidPathError):
        check_path("/")


def test_walk_key_orders_a_directory_before_its_siblings_with_longer_names() -> None:
    paths = ["/a/b-x", "/a/b/c", "/a/b", "/a/b.y"]
    assert sorted(paths, key=walk_key) == ["/a/b", "/a/b/c", "/a/b-x", "/a/b.y"]


def test_error_message_names_driver_and_path() -> None:
    with pytest.raises(PathNotFoundError, match=r"^inmemory: path not found: /missing$"):
        InMemoryDriver().get_content("/missing")


class _Broken(InMemoryDriver):
    name = "broken"

    def _get_content(self, path: str) -> bytes:
        raise RuntimeError("backend exploded")


def test_backend_errors_are_wrapped_with_driver_and_cause() -> None:
    with pytest.raises(StorageDriverError) as info:
        _Broken().get_content("/x")
    assert type(info.value) is StorageDriverError
    assert (info.value.driver_name, info.value.path) == ("broken", "/x")
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "backend exploded" in str(info.value)


def test_walk_validates_eagerly_and_fails_lazily() -> None:
    driver = InMemoryDriver()
    with pytest.raises(InvalidPathError):
        driver.walk("/a/")
    with pytest.raises(InvalidPathError):
        driver.walk("/a", start_after="bad")
    walk = driver.walk("/missing")
    with pytest.raises(PathNotFoundError) as info:
        next(walk)
    assert info.value.driver_name == "inmemory"
