"""Links read from memory (``linkcache``): every change made through a filesystem driver on the same root, in
this process or another, is seen by the next cached read; a change made around the drivers within ``TTL``;
and where the table cannot be shared (not a local filesystem) every read goes to the file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry_impl.storage.driver import linkcache
from registry_impl.storage.driver.base import PathNotFoundError
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.driver.linkcache import scope_of

pytestmark = pytest.mark.driver

REPO = "/docker/registry/v2/repositories/lib/app"
TAG = f"{REPO}/_manifests/tags/t/current/link"
REVISION = f"{REPO}/_manifests/revisions/sha256/{'a' * 64}/link"
A, B = b"sha256:" + b"a" * 64, b"sha256:" + b"b" * 64


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_scopes_cover_links_by_repository_and_leave_uploads_and_blobs_out() -> None:
    own = scope_of(TAG)
    assert own is not None and own > 0
    assert scope_of(REVISION) == own == scope_of(f"{REPO}/_manifests/tags/t") == scope_of(f"{REPO}/_layers")
    assert scope_of(f"{REPO}/_uploads/u/data") is None  # upload bodies hold no links: pushes move no word
    assert scope_of("/docker/registry/v2/blobs/sha256/aa/" + "a" * 64 + "/data") is None
    for holding_several in (
        REPO,
        "/docker/registry/v2/repositories/lib",
        "/docker/registry/v2/repositories",
        "/docker",
    ):
        assert scope_of(holding_several) == 0


def test_a_cached_read_sees_every_change_made_through_another_driver(root: Path) -> None:
    reader, writer = FilesystemDriver(root), FilesystemDriver(root)  # two mappings of one table
    writer.put_content(TAG, A)
    assert reader.get_content_cached(TAG) == A
    writer.put_content(TAG, B)
    assert reader.get_content_cached(TAG) == B
    writer.delete(f"{REPO}/_manifests/tags/t")
    with pytest.raises(PathNotFoundError):
        reader.get_content_cached(TAG)
    writer.put_content(TAG, A)
    assert reader.get_content_cached(TAG) == A
    writer.delete(REPO)  # a whole repository: word 0
    with pytest.raises(PathNotFoundError):
        reader.get_content_cached(TAG)
    writer.put_content("/elsewhere/link", A)
    writer.move("/elsewhere/link", TAG)  # a move announces its destination
    assert reader.get_content_cached(TAG) == A
    with writer.writer(TAG) as w:  # and a writer, once it is done
        w.write(B)
        w.commit()
    assert reader.get_content_cached(TAG) == B


def test_a_change_made_in_another_process_is_seen_at_once(root: Path) -> None:
    reader = FilesystemDriver(root)
    reader.put_content(TAG, A)
    assert reader.get_content_cached(TAG) == A
    script = (
        "import sys\nfrom registry_impl.storage.driver.filesystem import FilesystemDriver\n"
        "FilesystemDriver(sys.argv[1]).put_content(sys.argv[2], sys.argv[3].encode())\n"
    )
    subprocess.run([sys.executable, "-c", script, str(root), TAG, B.decode()], check=True)
    assert reader.get_content_cached(TAG) == B


def test_reads_come_from_memory_until_ttl_when_a_change_bypasses_the_drivers(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkcache, "TTL", 0.3)
    driver = FilesystemDriver(root)
    driver.put_content(TAG, A)
    assert driver.get_content_cached(TAG) == A
    (root / TAG.lstrip("/")).write_bytes(B)  # an operator's edit: no token moves
    assert driver.get_content_cached(TAG) == A  # still the copy in memory
    assert driver.get_content(TAG) == B  # writes decide from the file
    time.sleep(0.35)
    assert driver.get_content_cached(TAG) == B


def test_other_repositories_keep_their_cached_links_while_one_changes(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = TAG.replace("/lib/app/", "/lib/other/")
    assert scope_of(other) != scope_of(TAG)
    driver = FilesystemDriver(root)
    driver.put_content(other, A)
    assert driver.get_content_cached(other) == A
    (root / other.lstrip("/")).write_bytes(B)  # behind the cache's back: visible only through a read
    driver.put_content(TAG, A)  # another repository's change moves another word
    assert driver.get_content_cached(other) == A


def test_without_a_shareable_table_every_read_goes_to_the_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkcache, "filesystem_type", lambda path: "nfs4")
    driver = FilesystemDriver(root)
    driver.put_content(TAG, A)
    assert driver.get_content_cached(TAG) == A
    (root / TAG.lstrip("/")).write_bytes(B)
    assert driver.get_content_cached(TAG) == B
    assert not (root / linkcache.TOKEN_FILE).exists()


def test_the_token_table_is_hidden_from_listings(root: Path) -> None:
    driver = FilesystemDriver(root)
    driver.put_content(TAG, A)
    driver.get_content_cached(TAG)
    assert (root / linkcache.TOKEN_FILE).stat().st_size == linkcache.SLOTS * 8
    assert driver.list("/") == ["/docker"]
