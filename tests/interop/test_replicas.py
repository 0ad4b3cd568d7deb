"""Stateless replicas: two ``registry serve`` processes over one S3 bucket (moto) and one Redis blob-descriptor
cache, sharing ``http.secret``, behave as one registry.

An upload started on one replica continues on the other, what one writes the other serves byte for byte, a
delete on one is seen by the other (the shared cache stays coherent), and skopeo pushes and pulls through a
round-robin proxy in front of both. With different secrets an upload does not continue on the other replica,
and a replica started without a secret says why that matters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from testkit import s3
from testkit.oci_layout import OCI_MANIFEST, OciLayout
from testkit.processes import Server, Spawner, ours_command, start_ours
from testkit.redis import RedisServer, running_redis
from testkit.roundrobin import round_robin
from testkit.skopeo import Skopeo
from testkit.uploads import OCTET, with_query

pytestmark = pytest.mark.interop
SECRET = "replicas-shared-secret"
REPOSITORY = "replicas/app"


@pytest.fixture(scope="module")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[s3.MotoS3]:
    s3.require()
    with s3.running_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def shared(moto_s3: s3.MotoS3, redis_server: RedisServer) -> dict[str, Any]:
    """Config overrides every replica shares: S3 on one bucket, the Redis cache, bytes served (no redirect)."""
    return {
        "storage": {
            "filesystem": None,
            "s3": moto_s3.params(moto_s3.bucket("replicas")),
            "cache": {"blobdescriptor": "redis"},
            "redirect": {"disable": True},
        },
        "redis": {"addr": redis_server.addr},
        "http": {"secret": SECRET},
    }


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, shared: dict[str, Any]
) -> Iterator[tuple[Server, Server]]:
    if ours_command() is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    a = start_ours(tmp_path_factory.mktemp("replica-a"), shared, workers=1)
    try:
        b = start_ours(tmp_path_factory.mktemp("replica-b"), shared, workers=1)
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def on(server: Server, location: str) -> str:
    """``location`` (absolute or not) re-aimed at ``server``: its path and query, the server's host."""
    parts = urlsplit(location)
    return f"{server.url}{parts.path}?{parts.query}" if parts.query else f"{server.url}{parts.path}"


def patch_chunk(server: Server, location: str, chunk: bytes, offset: int) -> str:
    """PATCH ``chunk`` at ``offset`` to ``server``; returns the next Location."""
    headers = {**OCTET, "Content-Range": f"{offset}-{offset + len(chunk) - 1}"}
    with server.client() as client:
        r = client.patch(on(server, location), content=chunk, headers=headers)
    assert r.status_code == 202, (server.name, r.status_code, r.text)
    assert r.headers["Range"] == f"0-{offset + len(chunk) - 1}"
    return str(r.headers["Location"])


def start_upload(server: Server, repository: str) -> str:
    with server.client() as client:
        r = client.post(f"/v2/{repository}/blobs/uploads/")
    assert r.status_code == 202, r.text
    assert "_state=" in r.headers["Location"]
    return str(r.headers["Location"])


def test_chunked_upload_moves_between_replicas(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    content = hashlib.sha256(b"replicas").digest() * 3000  # 96 000 bytes in three uneven chunks
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    location = start_upload(a, REPOSITORY)
    location = patch_chunk(b, location, content[:10_000], 0)
    location = patch_chunk(a, location, content[10_000:50_000], 10_000)
    with a.client() as client:
        r = client.put(on(a, with_query(location, digest=digest)), content=content[50_000:], headers=OCTET)
        assert r.status_code == 201, r.text
        assert r.headers["Docker-Content-Digest"] == digest
    with b.client() as client:
        r = client.get(f"/v2/{REPOSITORY}/blobs/{digest}")
        assert r.status_code == 200, r.text
        assert r.content == content


def test_manifest_push_pull_and_delete_across_replicas(
    replicas: tuple[Server, Server], redis_server: RedisServer, tmp_path: Path
) -> None:
    a, b = replicas
    layout = OciLayout(tmp_path / "layout", seed=11)
    image = layout.add_image("v1", layers=2)
    repository = "replicas/manifests"
    with a.client() as client:
        assert layout.push(client, repository, "v1") == image.digest
    with b.client() as client:
        r = client.get(f"/v2/{repository}/manifests/v1", headers={"Accept": OCI_MANIFEST})
        assert r.status_code == 200, r.text
        assert r.content == image.content
        assert r.headers["Docker-Content-Digest"] == image.digest
        layer = image.layers[0].digest
        assert client.get(f"/v2/{repository}/blobs/{layer}").content == layout.read_blob(layer)
    with a.client() as client:  # A has now seen the layer as well (and cached its descriptor)
        assert client.head(f"/v2/{repository}/blobs/{layer}").status_code == 200
    cache = redis_server.client()
    assert cache.sismember(f"repository::{repository}::blobs", layer)  # the shared cache is in play
    with b.client() as client:
        assert client.delete(f"/v2/{repository}/manifests/{image.digest}").status_code == 202
        assert client.delete(f"/v2/{repository}/blobs/{layer}").status_code == 202
    assert not cache.sismember(f"repository::{repository}::blobs", layer)  # B cleared it for A
    with a.client() as client:
        r = client.get(f"/v2/{repository}/manifests/{image.digest}", headers={"Accept": OCI_MANIFEST})
        assert r.status_code == 404, r.text
        assert client.get(f"/v2/{repository}/manifests/v1").status_code == 404
        assert client.head(f"/v2/{repository}/blobs/{layer}").status_code == 404
        # The other layer was not deleted: still served by both.
        assert client.head(f"/v2/{repository}/blobs/{image.layers[1].digest}").status_code == 200


def test_skopeo_through_a_round_robin_proxy(
    replicas: tuple[Server, Server], skopeo: Skopeo, tmp_path: Path
) -> None:
    a, b = replicas
    source = OciLayout(tmp_path / "source", seed=12)
    image = source.add_image("app", layers=4, file_size=64 * 1024)
    with round_robin([("127.0.0.1", a.port), ("127.0.0.1", b.port)]) as proxy:
        target = f"docker://{proxy.host}/replicas/skopeo:v1"
        skopeo.copy(f"oci:{source.path}:app", target, "--format", "oci")
        back = OciLayout(tmp_path / "back")
        skopeo.copy(target, f"oci:{back.path}:app")
        counts = list(proxy.counts)
    assert all(counts), f"every replica should have taken connections: {counts}"
    descriptor, content = back.manifest("app")
    assert descriptor.digest == image.digest and content == image.content
    for digest in [image.config.digest, *(layer.digest for layer in image.layers)]:
        assert back.read_blob(digest) == source.read_blob(digest)


def test_a_different_secret_refuses_the_upload(
    replicas: tuple[Server, Server], spawn: Spawner, shared: dict[str, Any]
) -> None:
    a, _ = replicas
    other = spawn.ours("other-secret", {**shared, "http": {"secret": "another-secret"}}, workers=1)
    location = start_upload(a, REPOSITORY)
    headers = {**OCTET, "Content-Range": "0-3"}
    with other.client() as client:
        r = client.patch(on(other, location), content=b"data", headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["code"] == "BLOB_UPLOAD_INVALID"
    # The session itself is intact: the replica that signed it continues it.
    patch_chunk(a, location, b"data", 0)


def test_startup_without_a_secret_warns_about_load_balancers(spawn: Spawner) -> None:
    server = spawn.ours("no-secret", {"http": {"secret": None}}, workers=1)
    log = server.log_text(tail=None)
    assert "No HTTP secret provided" in log, log
    assert "multiple registries are behind a load-balancer" in log and "http.secret" in log, log
