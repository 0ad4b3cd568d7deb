"""An upload continued by another process resumes from the saved hash state, without re-reading data."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from registry_impl import hashstate
from registry_impl.digests import parse_digest
from registry_impl.errors import DigestInvalid
from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.hashpipe import BATCH, THREAD_THRESHOLD
from registry_impl.storage.registry import Registry
from registry_impl.storage.uploads import CachedHasher, HasherCache, UploadStatus, UploadStore

pytestmark = pytest.mark.skipif(not hashstate.available(), reason="libcrypto not loadable")


def test_other_process_resumes_from_saved_state(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = InMemoryDriver()
    first = Registry(driver).repository("a/b").uploads
    status = first.start()
    writer = first.writer(status.uuid)
    writer.write(b"hello ")
    writer.close()
    state_path = paths.upload_hashstate_path("a/b", status.uuid, "sha256", 6)
    assert len(driver.get_content(state_path)) == hashstate.MARSHALED_SIZE

    second = Registry(driver).repository("a/b").uploads  # a fresh process: empty in-memory cache

    def no_rehash(self: UploadStore, upload_id: str, algorithm: str) -> None:
        raise AssertionError("data was re-read")

    monkeypatch.setattr(UploadStore, "rehash", no_rehash)
    writer = second.writer(status.uuid)
    writer.write(b"world")
    writer.close()
    digest = "sha256:" + hashlib.sha256(b"hello world").hexdigest()
    info = second.complete(status.uuid, parse_digest(digest))
    assert info.size == 11 and driver.get_content(paths.blob_data_path(digest)) == b"hello world"


def test_state_at_another_offset_is_not_used() -> None:
    driver = InMemoryDriver()
    uploads = Registry(driver).repository("a").uploads
    status = uploads.start()
    writer = uploads.writer(status.uuid)
    writer.write(b"abc")
    writer.close()
    driver.writer(paths.upload_data_path("a", status.uuid), append=True).write(b"d")  # written without state
    fresh = Registry(driver).repository("a").uploads
    digest = "sha256:" + hashlib.sha256(b"abcd").hexdigest()
    assert fresh.complete(status.uuid, parse_digest(digest)).size == 4


def test_a_session_back_from_another_process_is_not_resumed_from_a_stale_cache() -> None:
    """This process's cached state (at 3 bytes) is stale once another process appended: the writer
    resumes from the state that process saved, and the digest covers every byte."""
    driver = InMemoryDriver()
    here = Registry(driver).repository("a").uploads
    status = here.start()
    writer = here.writer(status.uuid)
    writer.write(b"abc")
    writer.close()
    there = Registry(driver).repository("a").uploads
    writer = there.writer(status.uuid)
    writer.write(b"d")
    writer.close()
    assert not here.resumes(status.uuid, 4) and there.resumes(status.uuid, 4)
    writer = here.writer(status.uuid)
    writer.write(b"e")
    writer.close(save_state=False)
    with pytest.raises(PathNotFoundError):  # a session about to be completed saves no state
        driver.get_content(paths.upload_hashstate_path("a", status.uuid, "sha256", 5))
    digest = "sha256:" + hashlib.sha256(b"abcde").hexdigest()
    assert here.complete(status.uuid, parse_digest(digest)).size == 5


def test_large_bodies_are_written_and_hashed_off_the_caller(tmp_path: Path) -> None:
    """Through the filesystem driver with the writing thread: the data and its digest match."""
    driver = FilesystemDriver(tmp_path)
    uploads = Registry(driver).repository("a").uploads
    status = uploads.start()
    chunks = [os.urandom(THREAD_THRESHOLD + n) for n in range(5)]
    writer = uploads.writer(status.uuid)
    for chunk in chunks:
        writer.write(chunk)
    assert writer.size == sum(map(len, chunks))  # counted when handed over
    writer.close()
    assert uploads.status(status.uuid).size == writer.size
    digest = "sha256:" + hashlib.sha256(b"".join(chunks)).hexdigest()
    info = uploads.complete(status.uuid, parse_digest(digest))
    assert driver.get_content(info.path) == b"".join(chunks)


def test_the_hasher_cache_keeps_the_most_recently_written_sessions() -> None:
    cache = HasherCache(limit=2)
    for name in "abc":
        cache.put(("r", name), CachedHasher(1, hashlib.sha256()))
    assert not cache.holds(("r", "a"), 1) and cache.holds(("r", "b"), 1) and cache.holds(("r", "c"), 1)


def test_a_new_session_opens_from_the_cache() -> None:
    uploads = Registry(InMemoryDriver()).repository("a").uploads
    status = uploads.start()
    assert uploads.resumes(status.uuid, 0)


def test_a_garbled_saved_state_does_not_discard_acknowledged_data() -> None:
    """The saved state is written without a sync: after a crash it may hold other words at the right length.
    Completion then checks the data itself before refusing the digest (and still refuses a wrong one)."""
    for claimed, accepted in (("hello world", True), ("hello there", False)):
        driver = InMemoryDriver()
        first = Registry(driver).repository("a/b").uploads
        status = first.start()
        writer = first.writer(status.uuid)
        writer.write(b"hello world")
        writer.close()
        state_path = paths.upload_hashstate_path("a/b", status.uuid, "sha256", 11)
        garbled = hashstate.ResumableSha256()
        garbled.update(b"HELLO WORLD")  # the same length, other bytes
        driver.put_content(state_path, garbled.marshal())
        fresh = Registry(driver).repository("a/b").uploads  # another process: the state comes from storage
        digest = parse_digest("sha256:" + hashlib.sha256(claimed.encode()).hexdigest())
        if accepted:
            assert fresh.complete(status.uuid, digest).size == 11
            assert driver.get_content(paths.blob_data_path(str(digest))) == b"hello world"
        else:
            with pytest.raises(DigestInvalid):
                fresh.complete(status.uuid, digest)


def _session(driver: InMemoryDriver, data: bytes) -> UploadStatus:
    """A session of repository ``a`` holding ``data``, written and closed by one process."""
    uploads = Registry(driver).repository("a").uploads
    status = uploads.start()
    writer = uploads.writer(status.uuid)
    writer.write(data)
    writer.close()
    return status


def _no_rehash(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: UploadStore, upload_id: str, algorithm: str) -> None:
        raise AssertionError("the whole session was re-read")

    monkeypatch.setattr(UploadStore, "rehash", refuse)


def test_a_state_below_the_data_resumes_and_hashes_the_tail_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Data that reached storage after the last saved state (a crash between the data's sync and the state's
    save): another process starts from that state and hashes only the bytes after it."""
    driver = InMemoryDriver()
    status = _session(driver, b"abc")
    driver.writer(paths.upload_data_path("a", status.uuid), append=True).write(b"de")  # no state at 5
    read_from: list[int] = []
    reader = driver.reader
    monkeypatch.setattr(
        driver, "reader", lambda path, offset=0: read_from.append(offset) or reader(path, offset)
    )
    _no_rehash(monkeypatch)
    fresh = Registry(driver).repository("a").uploads
    writer = fresh.writer(status.uuid)
    assert read_from == [3]  # from the state's offset, not from the start
    writer.write(b"f")
    writer.close()
    digest = parse_digest("sha256:" + hashlib.sha256(b"abcdef").hexdigest())
    assert fresh.complete(status.uuid, digest).size == 6


def test_one_state_per_session_is_kept() -> None:
    driver = InMemoryDriver()
    uploads = Registry(driver).repository("a").uploads
    status = uploads.start()
    for part in (b"ab", b"cd", b"", b"ef"):
        writer = uploads.writer(status.uuid)
        writer.write(part)
        writer.close()
    assert driver.list_names(paths.upload_hashstates_root("a", status.uuid, "sha256")) == ["6"]


def test_a_garbled_state_below_the_data_does_not_discard_acknowledged_data() -> None:
    """A garbled state a writer resumed from (and then kept in memory) is checked against the data at
    completion, as one read straight from storage is."""
    driver = InMemoryDriver()
    status = _session(driver, b"hello")
    garbled = hashstate.ResumableSha256()
    garbled.update(b"HELLO")
    driver.put_content(paths.upload_hashstate_path("a", status.uuid, "sha256", 5), garbled.marshal())
    driver.writer(paths.upload_data_path("a", status.uuid), append=True).write(b" ")  # no state at 6
    fresh = Registry(driver).repository("a").uploads
    writer = fresh.writer(status.uuid)
    writer.write(b"world")
    writer.close()
    digest = parse_digest("sha256:" + hashlib.sha256(b"hello world").hexdigest())
    assert fresh.complete(status.uuid, digest).size == 11
    assert driver.get_content(paths.blob_data_path(str(digest))) == b"hello world"


def test_a_state_past_the_data_is_not_used() -> None:
    """A state at an offset the data does not reach (the data is the truth) is passed over."""
    driver = InMemoryDriver()
    status = _session(driver, b"abc")
    ahead = hashstate.ResumableSha256()
    ahead.update(b"abcXYZ")
    driver.put_content(paths.upload_hashstate_path("a", status.uuid, "sha256", 6), ahead.marshal())
    fresh = Registry(driver).repository("a").uploads
    digest = parse_digest("sha256:" + hashlib.sha256(b"abc").hexdigest())
    assert fresh.complete(status.uuid, digest).size == 3


class _LaggingHash:
    """``ResumableSha256.update`` on the pipe's threads held at a gate after the first chunk: the hash lags the
    writes (hashing on other threads, a state's tail read from storage, is not held)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gate = threading.Event()
        self.first = threading.Event()  # the first chunk is hashed (and its state taken): the second waits
        self.calls = 0
        original = hashstate.ResumableSha256.update

        def update(hasher: hashstate.ResumableSha256, data: bytes) -> None:
            if threading.current_thread().name == "upload-pipe":
                self.calls += 1
                if self.calls > 1:
                    self.first.set()
                    self.gate.wait(10)
            original(hasher, data)

        monkeypatch.setattr(hashstate.ResumableSha256, "update", update)

    def release(self) -> None:
        self.gate.set()


def _states(driver: InMemoryDriver, name: str, upload_id: str) -> list[int]:
    return sorted(int(n) for n in driver.list_names(paths.upload_hashstates_root(name, upload_id, "sha256")))


def test_a_chunk_is_acknowledged_before_its_hash_and_the_state_saved_is_where_the_hash_stood(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driver = InMemoryDriver()
    uploads = Registry(driver).repository("a").uploads
    status = uploads.start()
    lag = _LaggingHash(monkeypatch)
    chunks = [os.urandom(BATCH) for _ in range(3)]
    writer = uploads.writer(status.uuid)
    for chunk in chunks:
        writer.write(chunk)
    lag.first.wait(10)
    writer.close()  # returns with the hash one chunk in
    assert uploads.status(status.uuid).size == 3 * BATCH
    assert _states(driver, "a", status.uuid) == [BATCH]  # the snapshot, not the end
    # another process continues from that state, hashing the rest from the data
    elsewhere = Registry(driver).repository("a").uploads
    digest = "sha256:" + hashlib.sha256(b"".join(chunks)).hexdigest()
    assert elsewhere.saved_state(status.uuid, 3 * BATCH).hexdigest() == digest[7:]  # type: ignore[union-attr]
    # this process continues where its own hash will be: the next request's hashing runs after it
    more = os.urandom(BATCH)
    writer = uploads.writer(status.uuid)
    writer.write(more)
    writer.close()  # its hash waits for the one before
    assert _states(driver, "a", status.uuid) == [BATCH]  # nothing hashed since: nothing newer to save
    lag.release()
    key = ("a", status.uuid)
    entry = uploads.hashers.take(key, 4 * BATCH)
    assert entry is not None and entry.complete() is not None
    uploads.hashers.put(key, entry)
    writer = uploads.writer(status.uuid)
    writer.write(b"end")  # small, the hash before it complete: hashed inline, the exact state saved
    writer.close()
    assert _states(driver, "a", status.uuid) == [4 * BATCH + 3]  # the snapshot's state gone: one per session
    whole = "sha256:" + hashlib.sha256(b"".join(chunks) + more + b"end").hexdigest()
    assert uploads.complete(status.uuid, parse_digest(whole)).size == 4 * BATCH + 3


def test_completion_waits_for_a_hash_still_running(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = InMemoryDriver()
    uploads = Registry(driver).repository("a").uploads
    status = uploads.start()
    lag = _LaggingHash(monkeypatch)
    data = os.urandom(4 * BATCH)
    writer = uploads.writer(status.uuid)
    writer.write(data)
    writer.close()
    threading.Timer(0.2, lag.release).start()

    def no_rehash(self: UploadStore, upload_id: str, algorithm: str) -> None:
        raise AssertionError("data was re-read")

    monkeypatch.setattr(UploadStore, "rehash", no_rehash)
    info = uploads.complete(status.uuid, parse_digest("sha256:" + hashlib.sha256(data).hexdigest()))
    assert info.size == len(data)
