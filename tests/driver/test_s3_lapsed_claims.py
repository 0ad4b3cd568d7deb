"""Claims that are leases (S3) held longer than a lease lasts: a paused PATCH, a slow online GC, a dead holder.

An audit with three replicas on one bucket found each of these: a PATCH whose client paused past the upload
lease (30 s; ``http.limits.bodytimeout`` allows 60) had its session taken over by another replica, which
acknowledged a chunk the paused writer then overwrote — and the digest of the acknowledged bytes served
other bytes; online GC's blob claims (15 s) lapsed while it re-listed 900 repositories, a manifest PUT
referencing the blob was acknowledged, and GC deleted the blob; a session resumed after a completion cut
short answered 500; and a holder killed mid-request left its lease object for good.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from testkit.s3 import MotoS3

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.digests import parse_digest
from registry_impl.services import claims as service_claims
from registry_impl.storage import onlinegc, paths
from registry_impl.storage.cache.base import NoCache
from registry_impl.storage.driver.base import PathNotFoundError
from registry_impl.storage.driver.s3 import S3Driver
from registry_impl.storage.purge import purge_uploads
from registry_impl.storage.registry import Registry

pytestmark = pytest.mark.driver

MIB = 1 << 20
OCTET = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def bucket(moto_s3: MotoS3) -> str:
    return moto_s3.bucket()


def replica(moto_s3: MotoS3, bucket: str) -> S3Driver:
    return S3Driver.from_params(moto_s3.params(bucket))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.anyio
async def test_a_paused_patch_keeps_its_session_and_no_digest_serves_other_bytes(
    moto_s3: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replica A receives a PATCH whose client pauses for longer than the lease lasts; replica B gets the
    same session's next chunk meanwhile. Exactly one of them is acknowledged, and the session completes
    to exactly the acknowledged bytes."""
    monkeypatch.setitem(service_claims.TTL, "uploads", 1.2)
    apps = [
        create_app(
            AppState(registry=Registry(replica(moto_s3, bucket)), secret=b"one-secret", redirect_blobs=False)
        )
        for _ in range(2)
    ]
    base, x_part, y_part = os.urandom(6 * MIB), os.urandom(6 * MIB), os.urandom(6 * MIB)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://r", timeout=60) as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url="http://r", timeout=60) as b,
    ):
        location = (await a.post("/v2/lease/app/blobs/uploads/")).headers["Location"]
        first = await a.patch(
            location, content=base, headers={**OCTET, "Content-Range": f"0-{len(base) - 1}"}
        )
        assert first.status_code == 202
        paused = asyncio.Event()

        async def paused_body() -> AsyncIterator[bytes]:
            yield x_part[:-1]
            paused.set()
            await asyncio.sleep(2.5)  # twice the lease
            yield x_part[-1:]

        chunk_range = f"{len(base)}-{len(base) + len(x_part) - 1}"
        headers = {**OCTET, "Content-Range": chunk_range, "Content-Length": str(len(x_part))}
        x_task = asyncio.create_task(a.patch(location, content=paused_body(), headers=headers))
        await paused.wait()
        await asyncio.sleep(1.6)  # past the lease, had it not been renewed
        y = await b.patch(location, content=y_part, headers=headers)
        x = await x_task
        accepted = [part for part, answer in ((x_part, x), (y_part, y)) if answer.status_code == 202]
        assert len(accepted) == 1, (x.status_code, y.status_code)
        # the lease is renewed while the paused body is awaited: the session stays the paused request's
        assert (x.status_code, y.status_code) == (202, 416)
        whole = base + accepted[0]
        done = await b.put(f"{location}&digest={sha256(whole)}")
        assert done.status_code == 201, done.text
        served = await a.get(f"/v2/lease/app/blobs/{sha256(whole)}")
        assert served.status_code == 200 and sha256(served.content) == sha256(whole)


def test_concurrent_renewals_do_not_take_a_lease_for_lost(moto_s3: MotoS3, bucket: str) -> None:
    """The writing thread and the keep-alive renew the same lease at once: both succeed."""
    lease = replica(moto_s3, bucket).try_claim("/docker/registry/v2/_claims/r/_uploads/u", ttl=0.3)
    assert lease is not None
    time.sleep(0.15)  # a renewal is due
    errors: list[BaseException] = []

    def renew() -> None:
        try:
            lease.renew()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=renew) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and not lease.released
    lease.release()


def test_online_gc_keeps_a_blob_whose_claim_lapsed_during_its_recheck(
    moto_s3: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GC's blob claim lapses while it lists the repositories again; a writer takes the blob's claim
    meanwhile (a manifest PUT referencing it). GC must not delete the blob."""
    gc_driver, writer = replica(moto_s3, bucket), replica(moto_s3, bucket)
    registry = Registry(gc_driver, cache=NoCache())
    repo = registry.repository("gc/orphan")
    upload = repo.uploads.start()
    data = os.urandom(1024)
    w = repo.uploads.writer(upload.uuid)
    w.write(data)
    w.close(save_state=False)
    digest = sha256(data)
    repo.uploads.complete(upload.uuid, parse_digest(digest))
    repo.blobs.link(digest)  # linked, referenced by no manifest: garbage once older than the grace period
    monkeypatch.setattr(onlinegc, "BLOB_CLAIM_TTL", 0.4)
    listed = onlinegc._Sweep._repositories
    held = []

    def slow_listing(self: onlinegc._Sweep) -> list[str]:
        names = listed(self)
        time.sleep(0.6)  # the claim lapses
        claim = writer.try_claim(paths.blob_claim_path(digest), 30)
        assert claim is not None, "GC's lapsed claim was not taken over"
        held.append(claim)
        return names

    monkeypatch.setattr(onlinegc._Sweep, "_repositories", slow_listing)
    report = onlinegc.collect_garbage_online(registry, grace=timedelta(0))
    assert held and digest not in report.blobs
    assert gc_driver.stat(paths.blob_data_path(digest)).size == len(data)
    held[0].release()


def test_a_session_resumes_after_a_completion_cut_short(moto_s3: MotoS3, bucket: str) -> None:
    """A completing PUT cut short keeps its bytes without a hash state; another replica resumes the
    session (re-hashing it, which completes the pending multipart upload) and appends: no error."""
    first = Registry(replica(moto_s3, bucket)).repository("cut/app").uploads
    status = first.start()
    parts = [os.urandom(6 * MIB), os.urandom(MIB), os.urandom(2 * MIB)]
    writer = first.writer(status.uuid)
    writer.write(parts[0])
    writer.close()
    writer = first.writer(status.uuid)
    writer.write(parts[1])
    writer.close(save_state=False)  # the completion's body ended early: no state saved
    other = Registry(replica(moto_s3, bucket)).repository("cut/app").uploads
    writer = other.writer(status.uuid, other.status(status.uuid))
    writer.write(parts[2])
    writer.close()
    whole = b"".join(parts)
    assert other.complete(status.uuid, parse_digest(sha256(whole))).size == len(whole)


def test_purging_a_session_removes_the_lease_its_dead_holder_left(moto_s3: MotoS3, bucket: str) -> None:
    driver = replica(moto_s3, bucket)
    uploads = Registry(driver).repository("dead/app").uploads
    status = uploads.start()
    lease = driver.try_claim(paths.claim_path("uploads", "dead/app", status.uuid), 30)
    assert lease is not None  # its holder is killed: never released
    week_ago = (datetime.now(UTC) - timedelta(days=8)).isoformat()
    driver.put_content(paths.upload_started_at_path("dead/app", status.uuid), week_ago.encode())
    assert purge_uploads(driver, timedelta(days=7)) == [paths.upload_root("dead/app", status.uuid)]
    with pytest.raises(PathNotFoundError):
        driver.stat(paths.claim_path("uploads", "dead/app", status.uuid))
    assert moto_s3.keys(bucket) == [] or all("dead/app" not in key for key in moto_s3.keys(bucket))


def test_an_abandoned_writer_publishes_nothing(moto_s3: MotoS3, bucket: str) -> None:
    """A request that finds its claim lost stops without publishing: the session stays as the last close left it."""
    uploads = Registry(replica(moto_s3, bucket)).repository("ab/app").uploads
    status = uploads.start()
    base = os.urandom(6 * MIB)
    writer = uploads.writer(status.uuid)
    writer.write(base)
    writer.close()
    writer = uploads.writer(status.uuid)
    writer.write(os.urandom(100 << 10))  # small: written inline, so it is in the S3 writer's buffer
    writer.abandon()
    fresh = Registry(replica(moto_s3, bucket)).repository("ab/app").uploads
    assert fresh.status(status.uuid).size == len(base)
    assert fresh.complete(status.uuid, parse_digest(sha256(base))).size == len(base)


@pytest.mark.anyio
async def test_a_patch_whose_claim_was_lost_is_refused_and_kept_out(
    moto_s3: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry_impl.storage.driver.claims import Claim

    app = create_app(AppState(registry=Registry(replica(moto_s3, bucket)), secret=b"s", redirect_blobs=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
        location = (await client.post("/v2/lost/app/blobs/uploads/")).headers["Location"]
        base = os.urandom(MIB)
        assert (await client.patch(location, content=base, headers=OCTET)).status_code == 202
        monkeypatch.setattr(Claim, "still_held", lambda claim: False)  # taken over meanwhile
        refused = await client.patch(location, content=os.urandom(MIB), headers=OCTET)
        assert refused.status_code == 429 and refused.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
        monkeypatch.undo()
        status = await client.get(location)
        assert status.headers["Range"] == f"0-{len(base) - 1}"


def test_a_stale_writer_publishing_the_same_size_is_caught_at_completion(
    moto_s3: MotoS3, bucket: str
) -> None:
    """A writer stalled past its lease resumes and publishes over the session another replica continued
    (two 6 MiB chunks at one offset: each a part and an empty tail, the two tails one ETag). The replica that
    wrote the acknowledged chunk completes with the state it holds: refused, since the data's version is no
    longer the one it wrote — never the acknowledged digest over the stale writer's bytes."""
    from registry_impl.errors import DigestInvalid

    here = Registry(replica(moto_s3, bucket)).repository("stale/app").uploads
    stale = Registry(replica(moto_s3, bucket)).repository("stale/app").uploads
    status = here.start()
    base, acknowledged, late = os.urandom(6 * MIB), os.urandom(6 * MIB), os.urandom(6 * MIB)
    writer = here.writer(status.uuid)
    writer.write(base)
    writer.close()
    stalled = stale.writer(status.uuid, stale.status(status.uuid))  # opened, then its process stalls
    writer = here.writer(status.uuid, here.status(status.uuid))  # the lease lapsed: another replica goes on
    writer.write(acknowledged)
    writer.close()
    stalled.write(late)
    stalled.close()  # the stalled process wakes up and publishes
    with pytest.raises(DigestInvalid):
        here.complete(status.uuid, parse_digest(sha256(base + acknowledged)))
    with pytest.raises(PathNotFoundError):
        here.driver.stat(paths.blob_data_path(sha256(base + acknowledged)))


def test_a_manifest_put_whose_blob_claims_lapsed_is_not_acknowledged(
    moto_s3: MotoS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manifest PUT stalls past its blob claims while it writes the revision link; online GC may have taken
    them and deleted a blob meanwhile. The PUT is refused (429, retry), not acknowledged."""
    from registry_impl.manifests import parse_manifest
    from registry_impl.storage import blobclaims
    from registry_impl.storage.blobclaims import BlobBusy
    from registry_impl.storage.blobs import LinkSet

    driver, gc = replica(moto_s3, bucket), replica(moto_s3, bucket)
    repo = Registry(driver).repository("put/app")
    config = b'{"architecture":"amd64","os":"linux"}'
    for blob in (config,):
        upload = repo.uploads.start()
        w = repo.uploads.writer(upload.uuid)
        w.write(blob)
        w.close(save_state=False)
        repo.uploads.complete(upload.uuid, parse_digest(sha256(blob)))
        repo.blobs.link(sha256(blob))
    manifest = (
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":'
        f'"application/vnd.oci.image.config.v1+json","digest":"{sha256(config)}","size":{len(config)}}},'
        '"layers":[]}'
    ).encode()
    parse_manifest(manifest, "application/vnd.oci.image.manifest.v1+json")
    monkeypatch.setattr(blobclaims, "BLOB_CLAIM_TTL", 0.3)
    link = LinkSet.link
    taken = []

    def stalled_link(self: LinkSet, digest: str) -> None:
        time.sleep(0.5)  # the claims lapse; online GC takes one
        claim = gc.try_claim(paths.blob_claim_path(sha256(config)), 30)
        assert claim is not None
        taken.append(claim)
        link(self, digest)

    monkeypatch.setattr(LinkSet, "link", stalled_link)
    with pytest.raises(BlobBusy):
        repo.manifests.put(manifest, "application/vnd.oci.image.manifest.v1+json", "v1", None)
    assert taken
    taken[0].release()
