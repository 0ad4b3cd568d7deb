"""An upload continued by another process resumes from the saved hash state, without re-reading data."""

from __future__ import annotations

import hashlib

import pytest

from registry_impl import hashstate
from registry_impl.digests import parse_digest
from registry_impl.storage import paths
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Registry
from registry_impl.storage.uploads import UploadStore

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
