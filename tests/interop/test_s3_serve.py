"""`registry serve` on S3 storage (a moto server on loopback): skopeo both ways, blob redirects to presigned
URLs (and none when ``storage.redirect.disable``), uploads continued across registry processes, and the reference
registry reading the same bucket, which shows the layout is distribution's.

The S3 parameters are small on purpose (5 MiB parts and multipart copies above 5 MiB), so an 8 MiB layer
goes through every multipart path of the driver inside a real server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from testkit import s3
from testkit.oci_layout import OCI_MANIFEST, Image, OciLayout
from testkit.processes import (
    Server,
    Spawner,
    clean_environ,
    free_port,
    ours_command,
    reference_command,
    run_to_exit,
    start_ours,
    write_config,
)
from testkit.skopeo import Skopeo
from testkit.uploads import with_query

pytestmark = pytest.mark.interop
MIB = 1 << 20
REPOSITORY = "s3/app"


@pytest.fixture(scope="module")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[s3.MotoS3]:
    s3.require()
    with s3.running_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


def s3_config(moto_s3: s3.MotoS3, bucket: str, **storage: Any) -> dict[str, Any]:
    """Overrides that swap the filesystem driver for S3 on ``bucket`` (distribution's keys)."""
    params = moto_s3.params(
        bucket, chunksize=5 * MIB, multipartcopychunksize=5 * MIB, multipartcopythresholdsize=5 * MIB
    )
    return {"storage": {"filesystem": None, "s3": params, **storage}}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[OciLayout, Image]:
    layout = OciLayout(tmp_path_factory.mktemp("layout") / "src", seed=5)
    built = layout.add_image("app", layers=2, file_size=8 * MIB)
    assert max(layer.size for layer in built.layers) > 5 * MIB
    return layout, built


@pytest.fixture(scope="module")
def bucket(moto_s3: s3.MotoS3) -> str:
    return moto_s3.bucket("registry")


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory, moto_s3: s3.MotoS3, bucket: str) -> Iterator[Server]:
    """Two workers on the module's bucket, redirects on (the default)."""
    if ours_command() is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    server = start_ours(tmp_path_factory.mktemp("ours-s3"), s3_config(moto_s3, bucket), workers=2)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pushed(ours: Server, skopeo: Skopeo, image: tuple[OciLayout, Image]) -> Image:
    layout, built = image
    skopeo.copy(f"oci:{layout.path}:app", ours.ref(REPOSITORY, "v1"), "--format", "oci")
    return built


def blob_digests(built: Image) -> list[str]:
    return [built.config.digest, *(layer.digest for layer in built.layers)]


def test_blob_get_and_head_redirect_to_presigned_urls(
    ours: Server, moto_s3: s3.MotoS3, bucket: str, pushed: Image, image: tuple[OciLayout, Image]
) -> None:
    layout, _ = image
    with ours.client() as client:
        for digest in blob_digests(pushed):
            for method in ("GET", "HEAD"):
                r = client.request(method, f"/v2/{REPOSITORY}/blobs/{digest}")
                assert r.status_code == 307, (method, r.status_code, r.text)
                location = r.headers["Location"]
                assert location.startswith(f"{moto_s3.endpoint}/{bucket}/docker/registry/v2/blobs/sha256/")
                assert "X-Amz-Signature=" in location and "X-Amz-Expires=1200" in location
            fetched = httpx.get(location)
            assert fetched.status_code == 200 and fetched.content == layout.read_blob(digest)


def test_skopeo_copies_out_following_redirects(
    ours: Server, skopeo: Skopeo, pushed: Image, image: tuple[OciLayout, Image], tmp_path: Path
) -> None:
    layout, _ = image
    back = OciLayout(tmp_path / "back")
    skopeo.copy(ours.ref(REPOSITORY, "v1"), f"oci:{back.path}:app")
    assert back.manifest("app")[0].digest == pushed.digest
    for digest in blob_digests(pushed):
        assert back.read_blob(digest) == layout.read_blob(digest)


def test_bucket_holds_distributions_layout(moto_s3: s3.MotoS3, bucket: str, pushed: Image) -> None:
    keys = set(moto_s3.keys(bucket))
    root = "docker/registry/v2"
    for digest in [pushed.digest, *blob_digests(pushed)]:
        hex_ = digest.split(":", 1)[1]
        assert f"{root}/blobs/sha256/{hex_[:2]}/{hex_}/data" in keys
    repo = f"{root}/repositories/{REPOSITORY}"
    assert f"{repo}/_manifests/tags/v1/current/link" in keys
    assert f"{repo}/_manifests/revisions/sha256/{pushed.digest.split(':')[1]}/link" in keys
    assert not [key for key in keys if "/_uploads/" in key]  # finished sessions leave nothing
    assert not moto_s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_redirect_disabled_serves_the_bytes(
    spawn: Spawner, moto_s3: s3.MotoS3, bucket: str, pushed: Image, image: tuple[OciLayout, Image]
) -> None:
    layout, _ = image
    direct = spawn.ours("direct", s3_config(moto_s3, bucket, redirect={"disable": True}))
    digest = pushed.layers[0].digest
    with direct.client() as client:
        r = client.get(f"/v2/{REPOSITORY}/blobs/{digest}")
        assert r.status_code == 200 and r.content == layout.read_blob(digest)
        head = client.head(f"/v2/{REPOSITORY}/blobs/{digest}")
        assert head.status_code == 200 and head.headers["Content-Length"] == str(pushed.layers[0].size)
        partial = client.get(f"/v2/{REPOSITORY}/blobs/{digest}", headers={"Range": "bytes=6291456-"})
        assert partial.status_code == 206 and partial.content == layout.read_blob(digest)[6 * MIB :]


@pytest.mark.parametrize(("server", "workers"), [("granian", 1), ("granian", 2), ("uvicorn", 1)])
def test_redirect_disabled_pulls_in_parallel_and_clients_that_leave_mid_blob(
    spawn: Spawner,
    moto_s3: s3.MotoS3,
    bucket: str,
    pushed: Image,
    image: tuple[OciLayout, Image],
    server: str,
    workers: int,
) -> None:
    """Blobs streamed from S3 are read ahead of the response (``services.readahead``): eight pulls at once get
    every byte, and clients that hang up after the first MiB leave nothing stuck (the pulls after them and a
    status on the same worker answer)."""
    layout, _ = image
    config = s3_config(moto_s3, bucket, redirect={"disable": True})
    direct = spawn.ours(f"direct-{server}-{workers}", config, server=server, workers=workers)
    digest = pushed.layers[0].digest
    expected = hashlib.sha256(layout.read_blob(digest)).hexdigest()
    url = f"{direct.url}/v2/{REPOSITORY}/blobs/{digest}"

    def pull(_: int) -> str:
        with httpx.stream("GET", url, timeout=60) as r:
            assert r.status_code == 200
            return hashlib.sha256(b"".join(r.iter_bytes())).hexdigest()

    def leave(_: int) -> int:
        with httpx.stream(
            "GET", url, timeout=60
        ) as r:  # closed after the first MiB: the server sees a hang-up
            return len(next(r.iter_raw(MIB)))

    with ThreadPoolExecutor(8) as pool:
        assert all(got > 0 for got in pool.map(leave, range(8)))
        assert list(pool.map(pull, range(8))) == [expected] * 8
    assert httpx.get(f"{direct.url}/v2/", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory, moto_s3: s3.MotoS3, bucket: str) -> Iterator[Server]:
    """A second registry process on the same bucket (uvicorn, one worker)."""
    server = start_ours(
        tmp_path_factory.mktemp("replica-s3"), s3_config(moto_s3, bucket), server="uvicorn", workers=1
    )
    try:
        yield server
    finally:
        server.stop()


CHUNKS = (3 * MIB + 1, 4 * MIB, 6 * MIB + 5, 1, 7 * MIB)


def open_uploads(moto_s3: s3.MotoS3, bucket: str) -> list[str]:
    return [u["Key"] for u in moto_s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads") or ()]


def test_chunked_upload_continues_on_any_replica(
    ours: Server, replica: Server, moto_s3: s3.MotoS3, bucket: str
) -> None:
    """PATCHes of odd sizes (below and above the 5 MiB parts) sent to two registry processes in turn keep
    one multipart upload open; the PUT completes it byte-exact, and a cancelled session leaves none."""
    content = hashlib.sha256(b"seed").digest() * (sum(CHUNKS) // 32 + 1)
    content = content[: sum(CHUNKS)]
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    with ours.client() as one, replica.client() as two:
        r = one.post(f"/v2/{REPOSITORY}/blobs/uploads/")
        assert r.status_code == 202, r.text
        offset = 0
        for i, size in enumerate(CHUNKS):
            client = (one, two)[i % 2]
            chunk = content[offset : offset + size]
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + size - 1}",
            }
            r = client.patch(r.headers["Location"], content=chunk, headers=headers)
            assert r.status_code == 202, r.text
            offset += size
            assert r.headers["Range"] == f"0-{offset - 1}"
            # a repeated PATCH is refused, not appended (answered before its body is read: a new connection)
            repeat = {**headers, "Connection": "close"}
            again = (two, one)[i % 2].patch(r.headers["Location"], content=chunk, headers=repeat)
            assert again.status_code == 416, again.text
        assert len(open_uploads(moto_s3, bucket)) == 1
        r = two.put(with_query(r.headers["Location"], digest=digest))
        assert r.status_code == 201, r.text
        r = one.get(f"/v2/{REPOSITORY}/blobs/{digest}", follow_redirects=True)
        assert r.status_code == 200 and r.content == content
        assert open_uploads(moto_s3, bucket) == []

        r = one.post(f"/v2/{REPOSITORY}/blobs/uploads/")
        headers = {"Content-Type": "application/octet-stream", "Content-Range": f"0-{6 * MIB - 1}"}
        r = two.patch(r.headers["Location"], content=content[: 6 * MIB], headers=headers)
        assert r.status_code == 202 and open_uploads(moto_s3, bucket), r.text
        r = one.delete(r.headers["Location"])
        assert r.status_code == 204, r.text
        assert open_uploads(moto_s3, bucket) == []


def test_reference_reads_what_ours_wrote(
    spawn: Spawner, skopeo: Skopeo, moto_s3: s3.MotoS3, bucket: str, pushed: Image, tmp_path: Path
) -> None:
    if reference_command() is None:
        pytest.skip("docker-registry (distribution 2.8.2) is not installed")
    reference = spawn.reference("reference", s3_config(moto_s3, bucket))
    with reference.client() as client:
        r = client.get(f"/v2/{REPOSITORY}/manifests/v1", headers={"Accept": OCI_MANIFEST})
        assert r.status_code == 200, r.text
        assert r.headers["Docker-Content-Digest"] == pushed.digest
        blob = client.get(f"/v2/{REPOSITORY}/blobs/{pushed.layers[0].digest}")
        assert blob.status_code == 307  # the reference redirects to the same bucket too
        assert urlsplit(blob.headers["Location"]).path.startswith(f"/{bucket}/docker/registry/v2/blobs/")
    back = OciLayout(tmp_path / "from-reference")
    skopeo.copy(reference.ref(REPOSITORY, "v1"), f"oci:{back.path}:app")
    assert back.manifest("app")[0].digest == pushed.digest


def test_a_bad_s3_parameter_stops_startup_naming_it(tmp_path: Path) -> None:
    command = ours_command()
    if command is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    storage = {"filesystem": None, "s3": {"bucket": "b", "region": "us-east-1", "chunksize": "1MB"}}
    config = write_config(tmp_path / "config.yml", free_port(), tmp_path / "data", {"storage": storage})
    status, output = run_to_exit([*command, "serve", str(config)], clean_environ())
    assert status == 1, output  # a configuration error, as distribution
    assert "storage.s3: chunksize:" in output
