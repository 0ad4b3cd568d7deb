"""The S3 driver against the shared conformance suite on a moto server, plus what only S3 has.

Two configurations run the suite: distribution's defaults at the bucket root, and a "small" one (a root
directory, 5 MiB parts, every move a multipart copy, two-key list pages, three-key delete batches) that
drives the multipart, pagination and batching paths with the suite's own small files.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from testkit.s3 import MotoS3

from registry_impl.storage.driver import factory
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriverError
from registry_impl.storage.driver.conformance import DriverConformance, payload
from registry_impl.storage.driver.s3 import S3Driver, S3Settings
from registry_impl.storage.driver.s3.multipart import part_ranges

pytestmark = pytest.mark.driver
MIB = 1 << 20
SMALL = {
    "rootdirectory": "/nested/root/",
    "chunksize": 5 * MIB,
    "multipartcopythresholdsize": 0,
    "multipartcopychunksize": 5 * MIB,
}


def make_driver(moto_s3: MotoS3, bucket: str, **overrides: Any) -> S3Driver:
    return S3Driver.from_params(moto_s3.params(bucket, **overrides))


def small_driver(moto_s3: MotoS3, bucket: str, **overrides: Any) -> S3Driver:
    settings = S3Settings.from_params(moto_s3.params(bucket, **SMALL, **overrides))
    from dataclasses import replace

    return S3Driver(replace(settings, list_page_size=2, delete_batch_size=3))


class Calls:
    """Counts the S3 operations a driver's client sends (botocore's event hooks)."""

    def __init__(self, driver: S3Driver) -> None:
        self.names: list[str] = []
        driver.bucket.client.meta.events.register("before-call.s3", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)

    def count(self, name: str) -> int:
        return self.names.count(name)


class TestS3Driver(DriverConformance):
    shares_claims = False  # a lease has one holder

    @pytest.fixture(scope="class")
    def driver(self, moto_s3: MotoS3) -> S3Driver:
        return make_driver(moto_s3, moto_s3.bucket())


class TestS3DriverSmallParts(DriverConformance):
    shares_claims = False

    @pytest.fixture(scope="class")
    def driver(self, moto_s3: MotoS3) -> S3Driver:
        return small_driver(moto_s3, moto_s3.bucket())


@pytest.fixture
def bucket(moto_s3: MotoS3) -> str:
    return moto_s3.bucket()


# ---- layout ----


def test_keys_are_root_plus_path_without_leading_slash(moto_s3: MotoS3, bucket: str) -> None:
    make_driver(moto_s3, bucket, rootdirectory="/reg/").put_content("/docker/registry/v2/x", b"1")
    make_driver(moto_s3, bucket).put_content("/top", b"2")
    assert sorted(moto_s3.keys(bucket)) == ["reg/docker/registry/v2/x", "top"]
    assert make_driver(moto_s3, bucket, rootdirectory="reg").list("/") == ["/docker"]


# ---- writers across processes ----


CHUNKS = (MIB + 3, 7 * MIB + 1, 2 * MIB, 5 * MIB, 13, 11 * MIB + 5, 3, 4 * MIB - 1)


def test_chunked_writes_keep_one_upload_open_across_processes(moto_s3: MotoS3, bucket: str) -> None:
    """Each chunk by another process (a fresh driver and client): one multipart upload stays open, each
    append downloads at most the short tail, nothing is copied or completed until the file is read."""
    path, content = "/uploads/u/data", payload(sum(CHUNKS))
    with small_driver(moto_s3, bucket).writer(path) as writer:
        pass  # the session's empty file, as a POST leaves it
    offset = 0
    for size in CHUNKS:
        driver = small_driver(moto_s3, bucket)
        calls = Calls(driver)
        writer = driver.writer(path, append=True)
        assert writer.size == offset == driver.stat(path).size
        writer.write(content[offset : offset + size])
        writer.close()
        offset += size
        assert driver.stat(path).size == offset
        assert calls.count("UploadPartCopy") == calls.count("CompleteMultipartUpload") == 0
        assert calls.count("GetObject") <= 1 and calls.count("CreateMultipartUpload") <= 1
    uploads = list(driver.bucket.uploads(""))
    assert len(uploads) == 1  # one upload for the whole session
    keys = moto_s3.keys(bucket)
    assert keys == ["nested/root/uploads/u/data"]
    tail = moto_s3.client().head_object(Bucket=bucket, Key=keys[0])
    assert tail["ContentLength"] < 5 * MIB  # the object holds only the bytes after the parts
    reader = small_driver(moto_s3, bucket)
    assert reader.get_content(path) == content  # completed on first read
    assert not list(reader.bucket.uploads(""))
    with reader.writer(path, append=True) as writer:  # a completed (plain) file resumes as before
        writer.write(b"more")
    assert reader.get_content(path) == content + b"more"


@pytest.mark.parametrize("first", [3 * MIB, 6 * MIB + 7])
def test_plain_file_resumed_by_another_driver(moto_s3: MotoS3, bucket: str, first: int) -> None:
    """A plain object (written in one piece) is resumed as distribution does: small ones are re-uploaded,
    large ones copied server-side into the new upload."""
    path, content = "/uploads/u/data", payload(first + 7 * MIB + 3)
    one, two = small_driver(moto_s3, bucket), small_driver(moto_s3, bucket)
    one.put_content(path, content[:first])
    calls = Calls(two)
    writer = two.writer(path, append=True)
    assert writer.size == first
    writer.write(content[first:])
    writer.close()
    assert one.stat(path).size == len(content)
    assert one.get_content(path) == content
    copied = first >= 5 * MIB
    assert calls.count("UploadPartCopy") == (1 if copied else 0)  # 6 MiB + 7 in one part: no short tail
    assert calls.count("GetObject") == (0 if copied else 1)
    assert not list(two.bucket.uploads(""))


def test_move_completes_a_file_still_being_written(moto_s3: MotoS3, bucket: str) -> None:
    driver, content = small_driver(moto_s3, bucket), payload(12 * MIB + 9)
    with driver.writer("/uploads/u/data") as writer:
        writer.write(content)
    assert len(list(driver.bucket.uploads(""))) == 1
    driver.move("/uploads/u/data", "/blobs/b/data")
    assert driver.get_content("/blobs/b/data") == content
    assert not list(driver.bucket.uploads(""))
    with pytest.raises(PathNotFoundError):
        driver.stat("/uploads/u/data")


@pytest.mark.parametrize("resumed", [False, True])
def test_cancel_leaves_no_upload_behind(moto_s3: MotoS3, bucket: str, resumed: bool) -> None:
    driver = small_driver(moto_s3, bucket)
    writer = driver.writer("/uploads/u/data")
    writer.write(payload(11 * MIB))
    if resumed:
        writer.close()
        writer = small_driver(moto_s3, bucket).writer("/uploads/u/data", append=True)
        writer.write(b"x")
    writer.cancel()
    assert not list(driver.bucket.uploads(""))
    assert moto_s3.keys(bucket) == []


@pytest.mark.parametrize("last_part_closes_first", [True, False])
def test_racing_writers_never_publish_wrong_bytes(
    moto_s3: MotoS3, bucket: str, last_part_closes_first: bool
) -> None:
    """Two writers resumed from the same state (a duplicate PATCH) both send part 3 (S3 keeps the last);
    the second to close fails (its tail version is gone). Completing gives the bytes S3 holds when the
    state recorded them, or fails when it recorded the other writer's part: never a mix. (Identical tails
    have one ETag, so only the completion's chain check tells such writers apart.)"""
    path, head = "/uploads/u/data", payload(11 * MIB)
    driver = small_driver(moto_s3, bucket)
    with driver.writer(path) as writer:
        writer.write(head)  # two 5 MiB parts, a 1 MiB tail
    first, second = driver.writer(path, append=True), driver.writer(path, append=True)
    first.write(payload(5 * MIB, 1))
    second.write(payload(5 * MIB, 2))  # part 3 now holds the second writer's bytes
    closes_first, closes_last = (second, first) if last_part_closes_first else (first, second)
    closes_first.close()
    with pytest.raises(StorageDriverError):
        closes_last.close()
    assert driver.stat(path).size == 16 * MIB
    if last_part_closes_first:
        assert driver.get_content(path) == head + payload(5 * MIB, 2)
    else:
        with pytest.raises(StorageDriverError, match="changed since they were recorded"):
            driver.get_content(path)


def test_a_stale_writer_fails_on_the_changed_tail(moto_s3: MotoS3, bucket: str) -> None:
    path, driver = "/uploads/u/data", small_driver(moto_s3, bucket)
    with driver.writer(path) as writer:
        writer.write(payload(6 * MIB))  # one part, a 1 MiB tail
    first, second = driver.writer(path, append=True), driver.writer(path, append=True)
    first.write(b"a")
    first.close()
    with pytest.raises(StorageDriverError):
        second.write(b"b")  # its tail version is gone
    second.close()
    assert driver.get_content(path) == payload(6 * MIB) + b"a"


def test_append_without_writing_costs_one_head(moto_s3: MotoS3, bucket: str) -> None:
    driver = small_driver(moto_s3, bucket)
    driver.put_content("/f", payload(6 * MIB))
    calls = Calls(driver)
    with driver.writer("/f", append=True) as writer:
        assert writer.size == 6 * MIB
    assert calls.names == ["HeadObject"]


def test_failed_part_leaves_the_published_bytes(moto_s3: MotoS3, bucket: str) -> None:
    driver = small_driver(moto_s3, bucket, max_attempts=1)
    driver.put_content("/f", b"published")

    def refuse(**_: Any) -> None:
        raise ConnectionError("network down")

    writer = driver.writer("/f", append=True)
    driver.bucket.client.meta.events.register("before-call.s3.UploadPart", refuse)
    with pytest.raises(StorageDriverError):
        writer.write(payload(6 * MIB))
    with pytest.raises(StorageDriverError):
        writer.write(b"more")
    writer.close()
    driver.bucket.client.meta.events.unregister("before-call.s3.UploadPart", refuse)
    assert driver.get_content("/f") == b"published"
    assert not list(driver.bucket.uploads(""))


def test_delete_aborts_uploads_a_crashed_writer_left(moto_s3: MotoS3, bucket: str) -> None:
    driver = small_driver(moto_s3, bucket)
    driver.put_content("/uploads/u/startedat", b"now")
    crashed = driver.writer("/uploads/u/data")
    crashed.write(payload(5 * MIB))  # one part sent, then the process "dies" without closing
    assert len(list(driver.bucket.uploads(""))) == 1
    driver.delete("/uploads/u")
    assert not list(driver.bucket.uploads(""))
    with pytest.raises(PathNotFoundError):
        driver.stat("/uploads/u")


# ---- copies, listings, batches ----


def test_big_move_is_a_concurrent_multipart_copy(moto_s3: MotoS3, bucket: str) -> None:
    driver = make_driver(moto_s3, bucket, multipartcopythresholdsize=5 * MIB, multipartcopychunksize=5 * MIB)
    content = payload(16 * MIB + 5)
    driver.put_content("/src", content)
    calls = Calls(driver)
    driver.move("/src", "/dst/data")
    assert driver.get_content("/dst/data") == content
    assert calls.count("UploadPartCopy") == 3  # 5 + 5 + 6 MiB: the short tail joins the last range
    assert calls.count("CopyObject") == 0
    with pytest.raises(PathNotFoundError):
        driver.stat("/src")


def test_small_move_is_one_copy(moto_s3: MotoS3, bucket: str) -> None:
    driver = make_driver(moto_s3, bucket)
    driver.put_content("/src", b"x" * 100)
    calls = Calls(driver)
    driver.move("/src", "/dst")
    assert calls.count("CopyObject") == 1 and calls.count("UploadPartCopy") == 0


def test_paginated_list_walk_and_batched_delete(moto_s3: MotoS3, bucket: str) -> None:
    driver = small_driver(moto_s3, bucket)
    names = [f"f{i:02d}" for i in range(11)] + [f"d{i}/x" for i in range(4)]
    for name in names:
        driver.put_content(f"/top/{name}", name.encode())
    calls = Calls(driver)
    listed = driver.list("/top")
    assert listed == sorted({f"/top/{name.split('/')[0]}" for name in names})
    assert calls.count("ListObjectsV2") == 8  # 15 entries, two a page
    assert [info.path for info in driver.walk("/top") if not info.is_dir] == sorted(
        f"/top/{n}" for n in names
    )
    calls.names.clear()
    driver.delete("/top")
    assert calls.count("DeleteObjects") == 5  # 15 keys, three a batch
    assert calls.count("DeleteObject") == 0
    assert moto_s3.keys(bucket) == []


def test_part_ranges() -> None:
    assert part_ranges(3, 5 * MIB) == [(0, 2)]
    assert part_ranges(10 * MIB, 5 * MIB) == [(0, 5 * MIB - 1), (5 * MIB, 10 * MIB - 1)]
    assert part_ranges(10 * MIB + 1, 5 * MIB) == [(0, 5 * MIB - 1), (5 * MIB, 10 * MIB)]
    huge = part_ranges(200_000 * MIB, 5 * MIB)
    assert len(huge) <= 10_000 and huge[-1][1] == 200_000 * MIB - 1


# ---- redirects ----


def test_presigned_urls(moto_s3: MotoS3, bucket: str) -> None:
    driver = make_driver(moto_s3, bucket)
    driver.put_content("/blob/data", b"hello")
    get_url, head_url = driver.redirect_url("GET", "/blob/data"), driver.redirect_url("HEAD", "/blob/data")
    assert get_url is not None and head_url is not None
    assert "X-Amz-Expires=1200" in get_url and "X-Amz-Signature=" in get_url
    assert httpx.get(get_url).content == b"hello"
    head = httpx.head(head_url)
    assert head.status_code == 200 and head.headers["content-length"] == "5"
    assert driver.redirect_url("PUT", "/blob/data") is None


# ---- retries ----


def test_throttling_is_retried(moto_s3: MotoS3, bucket: str) -> None:
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"

    driver = make_driver(moto_s3, bucket)
    attempts: list[int] = []

    def throttle_once(request: Any, **_: Any) -> AWSResponse | None:
        attempts.append(1)
        return AWSResponse(request.url, 503, {}, Raw()) if len(attempts) == 1 else None

    driver.bucket.client.meta.events.register("before-send.s3.PutObject", throttle_once)
    driver.put_content("/f", b"x")
    assert len(attempts) == 2
    assert driver.get_content("/f") == b"x"


# ---- parameters ----


def test_factory_builds_from_distribution_keys(moto_s3: MotoS3, bucket: str) -> None:
    params = moto_s3.params(bucket, secure="false", forcepathstyle="true", chunksize="6291456")
    driver = factory.create("s3", params)
    assert isinstance(driver, S3Driver) and driver.remote
    assert driver.settings.chunksize == 6 * MIB and driver.settings.forcepathstyle is True


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"region": "us-east-1"}, "bucket"),
        ({"bucket": "b"}, "region"),
        ({"bucket": "b", "region": "mars-1"}, "region"),
        ({"bucket": "b", "region": "us-east-1", "chunksize": 5 * MIB - 1}, "chunksize"),
        ({"bucket": "b", "region": "us-east-1", "chunksize": "big"}, "chunksize"),
        ({"bucket": "b", "region": "us-east-1", "encrypt": "maybe"}, "encrypt"),
        ({"bucket": "b", "region": "us-east-1", "storageclass": "DEEP_ARCHIVE"}, "storageclass"),
        ({"bucket": "b", "region": "us-east-1", "objectacl": "secret"}, "objectacl"),
        ({"bucket": "b", "region": "us-east-1", "v4auth": False}, "v4auth"),
        (
            {"bucket": "b", "region": "us-east-1", "multipartcopymaxconcurrency": 0},
            "multipartcopymaxconcurrency",
        ),
    ],
)
def test_invalid_parameters(params: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=f"^{key}:"):
        S3Settings.from_params(params)


def test_parameter_defaults_and_object_options() -> None:
    settings = S3Settings.from_params({"bucket": "b", "region": "eu-west-1", "storageclass": "standard_ia"})
    assert (settings.chunksize, settings.multipartcopychunksize, settings.multipartcopythresholdsize) == (
        10 * MIB,
        32 * MIB,
        32 * MIB,
    )
    assert settings.secure and settings.v4auth and not settings.forcepathstyle
    assert settings.object_options() == {
        "ContentType": "application/octet-stream",
        "ACL": "private",
        "StorageClass": "STANDARD_IA",
    }
    kms = S3Settings.from_params(
        {"bucket": "b", "regionendpoint": "minio:9000", "encrypt": True, "keyid": "k", "storageclass": "NONE"}
    )
    assert kms.endpoint_url() == "https://minio:9000"
    assert kms.object_options() == {
        "ContentType": "application/octet-stream",
        "ACL": "private",
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "k",
    }


def test_config_yaml_and_environment_build_the_driver(moto_s3: MotoS3, bucket: str) -> None:
    """``storage.s3`` from config.yml, refined by ``REGISTRY_STORAGE_S3_*`` strings, as the server builds it."""
    import yaml

    from registry_impl.config import parse_config
    from registry_impl.server import build_state

    storage = {"s3": moto_s3.params(bucket), "redirect": {"disable": True}}
    text = yaml.safe_dump({"version": "0.1", "storage": storage, "http": {"secret": "s"}})
    environ = {"REGISTRY_STORAGE_S3_CHUNKSIZE": "6291456", "REGISTRY_STORAGE_S3_ROOTDIRECTORY": "/env-root"}
    state = build_state(parse_config(text, environ))
    driver = state.registry.driver
    assert isinstance(driver, S3Driver) and not state.redirect_blobs
    assert (driver.settings.chunksize, driver.bucket.root) == (6 * MIB, "env-root")
    driver.put_content("/x", b"1")
    assert moto_s3.keys(bucket) == ["env-root/x"]


# ---- claims (leases) ----


def test_expired_lease_is_taken_over_and_its_holder_learns_it(moto_s3: MotoS3, bucket: str) -> None:
    """A replica that died holding a claim blocks it only until the lease expires; if it was merely slow,
    its next renewal fails (ClaimLost) instead of writing on."""
    import time

    from registry_impl.storage.driver.claims import ClaimLost

    first, second = make_driver(moto_s3, bucket), make_driver(moto_s3, bucket)
    path = "/docker/registry/v2/_claims/uploads/r/u1"
    slow = first.try_claim(path, ttl=0.6)
    assert slow is not None
    assert second.try_claim(path, ttl=0.6) is None, "a live lease was granted to another replica"
    time.sleep(0.8)
    taken = second.try_claim(path, ttl=30)
    assert taken is not None, "an expired lease was never taken over"
    assert first.try_claim(path) is None
    with pytest.raises(ClaimLost):
        slow.renew()
    slow.release()  # releasing a lost lease leaves the new holder's alone
    assert first.try_claim(path) is None
    taken.release()
    again = first.try_claim(path)
    assert again is not None
    again.release()
    with pytest.raises(PathNotFoundError):
        first.stat(path)
