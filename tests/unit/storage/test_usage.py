"""Stored bytes per repository over the layout: linked, unique and shared bytes, totals, on both local drivers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from registry_impl.storage import paths
from registry_impl.storage.cache.base import NoCache
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Registry
from registry_impl.storage.usage import RepositoryUsage, human, measure


@pytest.fixture(params=["inmemory", "filesystem"])
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> StorageDriver:
    return InMemoryDriver() if request.param == "inmemory" else FilesystemDriver(tmp_path / "root")


def blob(driver: StorageDriver, size: int, seed: str) -> str:
    content = (seed * size).encode()[:size]
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    driver.put_content(paths.blob_data_path(digest), content)
    return digest


def layer(driver: StorageDriver, name: str, digest: str) -> None:
    driver.put_content(paths.layer_link_path(name, digest), digest.encode())


def revision(driver: StorageDriver, name: str, digest: str) -> None:
    driver.put_content(paths.manifest_revision_link_path(name, digest), digest.encode())


def test_unique_and_shared_bytes_per_repository(driver: StorageDriver) -> None:
    base, app_layer, tool_layer = blob(driver, 1000, "b"), blob(driver, 300, "a"), blob(driver, 50, "t")
    app_manifest, tool_manifest = blob(driver, 7, "m"), blob(driver, 9, "n")
    orphan = blob(driver, 4000, "o")  # in the store, linked nowhere
    for digest in (base, app_layer):
        layer(driver, "org/app", digest)
    revision(driver, "org/app", app_manifest)
    for digest in (base, tool_layer):
        layer(driver, "org/app/tool", digest)  # nested: its own repository, not part of org/app
    revision(driver, "org/app/tool", tool_manifest)
    layer(driver, "org/app/tool", app_manifest)  # linked twice in one repository: counted once
    revision(driver, "org/app/tool", app_manifest)

    report = measure(Registry(driver, cache=NoCache()))

    assert report.repositories == (
        RepositoryUsage("org/app", blobs=3, size=1307, unique=300, shared=1007),
        RepositoryUsage("org/app/tool", blobs=4, size=1066, unique=59, shared=1007),
    )
    assert (report.linked, report.shared) == (1366, 1007)
    assert (report.stored, report.unlinked) == (1366 + 4000, 4000)
    assert orphan not in {r.name for r in report.repositories}
    totals = report.as_json()["totals"]
    assert totals == {
        "repositories": 2,
        "linked": 1366,
        "unique": 359,
        "shared": 1007,
        "stored": 5366,
        "unlinked": 4000,
    }


def test_a_link_without_its_blob_counts_as_missing(driver: StorageDriver) -> None:
    present = blob(driver, 10, "p")
    layer(driver, "lib/a", present)
    layer(driver, "lib/a", "sha256:" + "0" * 64)

    (usage,) = measure(Registry(driver, cache=NoCache())).repositories

    assert usage == RepositoryUsage("lib/a", blobs=1, size=10, unique=10, shared=0, missing=1)


def test_an_empty_storage_has_no_repositories_and_no_bytes(driver: StorageDriver) -> None:
    report = measure(Registry(driver, cache=NoCache()))
    assert report.repositories == ()
    assert (report.linked, report.shared, report.stored, report.unlinked) == (0, 0, 0, 0)


def test_the_table_has_a_row_per_repository_and_a_totals_line(driver: StorageDriver) -> None:
    shared = blob(driver, 3 * 1024 * 1024, "s")
    for name in ("a", "bb/c"):
        layer(driver, name, shared)
    layer(driver, "a", blob(driver, 1536, "u"))

    lines = list(measure(Registry(driver, cache=NoCache())).lines())

    assert lines[0].split() == ["REPOSITORY", "BLOBS", "SIZE", "UNIQUE", "SHARED"]
    assert lines[1].split() == ["a", "2", "3.0", "MiB", "1.5", "KiB", "3.0", "MiB"]
    assert lines[2].split() == ["bb/c", "1", "3.0", "MiB", "0", "B", "3.0", "MiB"]
    assert lines[3] == (
        "2 repositories link 3.0 MiB (1.5 KiB unique to one, 3.0 MiB shared); "
        "blob store 3.0 MiB, 0 B linked by no repository"
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (5 * 1024**4, "5.0 TiB"), (1024**5, "1024.0 TiB")],
)
def test_human_sizes(size: int, text: str) -> None:
    assert human(size) == text
