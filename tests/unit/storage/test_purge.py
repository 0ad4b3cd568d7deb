"""Upload purging removes only sessions older than the age, and a dry run removes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from registry_impl.storage import paths
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
