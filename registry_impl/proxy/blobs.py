"""Blobs of a proxied repository: one upstream stream per blob, stored while the first client receives it.

A GET that misses takes the blob's proxy claim (``_claims/_proxy/<alg>/<hex>``, a storage claim: one
holder across threads, workers and replicas sharing the storage). The holder opens the upstream GET,
answers its client with the upstream's size, and, chunk by chunk, writes what arrives into an upload
session of the repository and sends it on. At the end the session is completed by the registry's own
upload machinery, which verifies the bytes against the digest before the blob is adopted and linked; a
broken, truncated or mismatching transfer cancels the session, so nothing is left behind (the client's
response is cut short: it never receives a complete wrong blob). Concurrent GETs of the same blob wait
while the claim is held and are then served from storage (single flight); if the holder failed, the
next one takes the claim and fetches. A blob whose data is already stored (fetched for another repository) is
linked without a fetch, once a HEAD shows the upstream has it under this name. A HEAD that misses asks the
upstream for the size only.
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio

from registry_impl.digests import parse_digest
from registry_impl.errors import BlobUnknown
from registry_impl.proxy.upstream import CHUNK, BlobStream, Upstream, UpstreamUnavailable, count
from registry_impl.services.blobs import BlobFound
from registry_impl.services.readahead import read_ahead
from registry_impl.services.state import State
from registry_impl.storage import paths
from registry_impl.storage.blobs import BlobInfo
from registry_impl.storage.driver.base import PathNotFoundError
from registry_impl.storage.driver.claims import Claim
from registry_impl.storage.registry import Repository
from registry_impl.storage.uploads import UploadWriter

__all__ = ["FETCH_WAIT", "find"]

log = logging.getLogger("registry.proxy")

#: Seconds a GET waits for another request's fetch of the same blob before answering 503.
FETCH_WAIT = 300.0
#: Seconds between renewals of the proxy claim while a fetch streams (leases on S3).
RENEW_EVERY = 5.0
CLAIM_TTL = 30.0
_FIRST_PAUSE, _LONGEST_PAUSE = 0.005, 0.1


def claim_path(digest: str) -> str:
    algorithm, _, hex_ = digest.partition(":")
    return f"{paths.ROOT}/_claims/_proxy/{algorithm}/{hex_}"


def _linked(repo: Repository, digest: str) -> BlobInfo | None:
    """The blob if it is linked into this repository."""
    try:
        return repo.blobs.stat(digest)
    except BlobUnknown:
        return None


def _stored(repo: Repository, digest: str) -> bool:
    """Whether the blob's data is in storage (fetched for another repository)."""
    return repo.registry.blobs.stat_storage(digest) is not None


@dataclass(frozen=True)
class FetchingBlob(BlobFound):
    """A blob being fetched by this request: ``open`` streams it from the upstream while storing it."""

    _state: State = field(repr=False)
    _repo: Repository = field(repr=False)
    _stream: BlobStream = field(repr=False)
    _claim: Claim = field(repr=False)

    def __post_init__(self) -> None:
        # A response that never opens the body (304) must not keep the claim and the connection.
        weakref.finalize(self, _abandon, self._stream, self._claim)

    async def open(self, start: int, length: int) -> AsyncIterator[bytes]:
        offload = self._state.offload
        status = await offload.storage(self._repo.uploads.start)
        writer = await offload.slow(self._repo.uploads.writer, status.uuid)
        return _relay(self, writer, status.uuid, start, length)


def _abandon(stream: BlobStream, claim: Claim) -> None:
    if not claim.released:
        stream.close()
        claim.release()


async def _relay(
    blob: FetchingBlob, writer: UploadWriter, uuid: str, start: int, length: int
) -> AsyncIterator[bytes]:
    """Upstream → upload session → client (the client's ``[start, start+length)`` part of it).

    The last chunk is held back until the blob is verified and linked: a client that has the whole body
    finds the blob stored on its next request, and a client that goes away after it does not abort the
    commit (it is shielded). The upstream is held to the blob's size (its GET's Content-Length, or its
    HEAD's when the GET had none): a body that runs past it is cut before the excess is written."""
    offload, repo, stream, claim = blob._state.offload, blob._repo, blob._stream, blob._claim
    digest, size = blob.info.digest, blob.info.size
    done, position, renewed = False, 0, time.monotonic()
    open_writer: UploadWriter | None = writer
    end = start + length
    held = b""
    try:
        # closed here, not whenever it is collected: no read of the stream is left running when it is abandoned
        async with contextlib.aclosing(read_ahead(_Chunks(stream), size + 1, offload, size=CHUNK)) as chunks:
            async for chunk in chunks:
                if position + len(chunk) > size:
                    raise UpstreamUnavailable(stream.upstream.url, f"sends more than the blob's {size} bytes")
                await offload.storage(writer.write, chunk)
                if held:
                    yield held
                low, high = max(0, start - position), min(len(chunk), end - position)
                held = chunk[low:high] if high > low else b""
                position += len(chunk)
                if time.monotonic() - renewed > RENEW_EVERY:
                    await offload.storage(claim.renew)
                    renewed = time.monotonic()
        with anyio.CancelScope(shield=True):
            await offload.slow(writer.close)
            open_writer = None
            if position != size:
                reason = f"transfer ended at {position} of {size} bytes"
                raise UpstreamUnavailable(stream.upstream.url, reason)
            await offload.slow(repo.uploads.complete, uuid, parse_digest(digest))  # verifies, adopts, links
            count("blob_fetch")
            done = True
        if held:
            yield held
    finally:
        if not done:
            log.warning("fetch of %s for %s failed at byte %d: discarded", digest, repo.name, position)
            await offload.shielded(lambda: _discard(open_writer, repo, uuid), slow=True)
        await offload.shielded(lambda: _abandon(stream, claim))


class _Chunks:
    """An upstream GET as ``read_ahead`` reads it: its chunks as they come; the relay closes the stream itself."""

    def __init__(self, stream: BlobStream) -> None:
        self.stream = stream

    def read(self, size: int, /) -> bytes:
        return self.stream.read()

    def close(self) -> None:
        pass


def _discard(writer: UploadWriter | None, repo: Repository, uuid: str) -> None:
    """Drop the session of a failed fetch, whatever state it is in (``writer``: still open)."""
    if writer is not None:
        try:
            writer.close()  # waits for its hashing thread
        except Exception:
            log.debug("closing the writer of %s failed", uuid, exc_info=True)
    with contextlib.suppress(PathNotFoundError):  # a mismatch was already cancelled by the upload store
        repo.registry.driver.delete(paths.upload_root(repo.name, uuid))
    repo.uploads.hashers.drop((repo.name, uuid))


def _found(state: State, info: BlobInfo, method: str = "GET") -> BlobFound:
    url = state.registry.blobs.redirect_url(info, method) if state.redirect_blobs else None
    return BlobFound(info, url, state.registry, state.offload)


async def find(state: State, upstream: Upstream, name: str, digest: str, method: str) -> BlobFound:
    """A blob missing from proxied repository ``name``: from the upstream (see the module docstring)."""
    digest = str(parse_digest(digest))
    repo = state.registry.repository(name)
    offload, driver = state.offload, state.registry.driver
    if method == "HEAD":
        info = await offload.storage(_linked, repo, digest)
        if info is not None:
            return _found(state, info, method)
        size = await offload.slow(upstream.head_blob, name, digest)
        return BlobFound(BlobInfo(digest, size, ""), None, state.registry, offload)
    deadline, pause = time.monotonic() + FETCH_WAIT, _FIRST_PAUSE
    while True:
        claim = await offload.storage(driver.try_claim, claim_path(digest), CLAIM_TTL)
        if claim is not None:
            return await _take_over(state, upstream, repo, digest, claim)
        info = await offload.storage(_linked, repo, digest)  # the holder's fetch, done
        if info is not None:
            return _found(state, info)
        if time.monotonic() >= deadline:
            reason = f"another request's fetch of {digest} did not finish in time"
            raise UpstreamUnavailable(upstream.url, reason)
        await anyio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)


async def _take_over(
    state: State, upstream: Upstream, repo: Repository, digest: str, claim: Claim
) -> BlobFound:
    """Holding the claim: the blob as linked meanwhile; else, when its data is already stored (fetched for
    another repository), linked here once the upstream confirms this repository has it (a HEAD: no data
    of a repository is served under another name on the strength of a digest alone); else a fetch."""
    offload = state.offload
    try:
        info = await offload.storage(_linked, repo, digest)
        if info is None and await offload.storage(_stored, repo, digest):
            await offload.slow(upstream.head_blob, repo.name, digest)
            with contextlib.suppress(BlobUnknown):  # collected meanwhile: fetched below
                info = await offload.storage(repo.mount, digest, None)
        if info is None:
            stream = await offload.slow(upstream.open_blob, repo.name, digest)
            size = stream.size
            if size is None:
                size = await offload.slow(upstream.head_blob, repo.name, digest)
            found = BlobInfo(digest, size, "")
            return FetchingBlob(found, None, state.registry, offload, state, repo, stream, claim)
    except BaseException:
        await offload.shielded(claim.release)
        raise
    await offload.shielded(claim.release)
    return _found(state, info)
