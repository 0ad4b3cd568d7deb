"""Upload purging removes only sessions older than the age, and a dry run removes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from registry_impl.storage import paths
from registry_impl.storage.driver.base import FileInfo
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.purge import purge_uploads

NOW = datetime(2026, 1, 10, tzinfo=UTC)


def _upload(driver: InMemoryDriver, name: str, upload_id: str, started: datetime) -> None:
    driver.put_content(paths.upload_started_at_path(name, upload_id), started.isoformat().encode())
    driver.put_content(paths.upload_data_path(name, upload_id), b"partial")


def test_purges_only_old_uploads() -> None:
    driver = InMemoryDriver()
    _upload(driver, "a/b", "old", NOW - timedelta(days=8))
    _upload(driver, "a/b", "new", NOW - timedelta(hours=1))
    _upload(driver, "c", "older", NOW - timedelta(days=30))
    purged = purge_uploads(driver, timedelta(days=7), now=NOW)
    assert sorted(purged) == sorted([paths.upload_root("a/b", "old"), paths.upload_root("c", "older")])
    assert driver.get_content(paths.upload_data_path("a/b", "new")) == b"partial"
    assert not driver.list(paths.uploads_root("c"))


def test_dry_run_keeps_everything() -> None:
    driver = InMemoryDriver()
    _upload(driver, "a", "old", NOW - timedelta(days=8))
    assert purge_uploads(driver, timedelta(days=7), dry_run=True, now=NOW) == [paths.upload_root("a", "old")]
    assert driver.get_content(paths.upload_data_path("a", "old")) == b"partial"


def test_empty_storage() -> None:
    assert purge_uploads(InMemoryDriver(), timedelta(days=7), now=NOW) == []


class _ListingRecorder(InMemoryDriver):
    def __init__(self) -> None:
        super().__init__()
        self.listed: list[str] = []

    def _list_infos(self, path: str) -> list[FileInfo]:
        self.listed.append(path)
        return super()._list_infos(path)


def test_the_pass_skips_reserved_directories_but_finds_nested_repositories() -> None:
    """As distribution's purger: ``_layers`` and ``_manifests`` (most of a tree) are not walked into; an upload
    of ``a/b`` under the repository ``a`` is still found."""
    driver = _ListingRecorder()
    driver.put_content(f"{paths.repository_root('a')}/_manifests/tags/t/current/link", b"sha256:x")
    driver.put_content(f"{paths.repository_root('a')}/_layers/sha256/x/link", b"sha256:x")
    _upload(driver, "a", "old", NOW - timedelta(days=8))
    _upload(driver, "a/b", "old", NOW - timedelta(days=8))
    purged = purge_uploads(driver, timedelta(days=7), now=NOW)
    assert sorted(purged) == sorted([paths.upload_root("a", "old"), paths.upload_root("a/b", "old")])
    assert f"{paths.repository_root('a')}/_uploads" in driver.listed
    reserved = [p for p in driver.listed if "/_manifests" in p or "/_layers" in p]
    assert reserved == []
    assert driver.get_content(f"{paths.repository_root('a')}/_manifests/tags/t/current/link") == b"sha256:x"
