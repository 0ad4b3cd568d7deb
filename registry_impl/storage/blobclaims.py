"""Blob claims: what keeps online garbage collection and a writer that adopts an existing blob apart.

A writer that makes a blob part of an acknowledged push without writing its bytes (a manifest PUT that
references layers already there, a mount) or that writes them over a blob already there (an upload
completing onto an existing digest) holds the blob's claim (``paths.blob_claim_path``) from the moment it
checks the blob's data exists in storage until what protects the blob is written: the manifest's revision
link, the mount's layer link, the adopted data. Online GC (:mod:`.onlinegc`) deletes a blob only while it
holds the same claim, after re-checking that nothing written meanwhile protects it. Only those few write paths
take it: pulls, chunk uploads and tags never do.

Writers hold it shared: they keep GC away, not each other (what they write is a link, or bytes verified
against the digest, moved in by an atomic rename), so concurrent manifest PUTs naming the same layers do
not queue behind one another. GC takes it exclusively: it waits for no writer, and no writer shares a blob
with it. On S3 a lease has one holder, so there writers take turns as before.

Claims are taken in sorted digest order (no two writers deadlock); online GC never waits for one (a blob
in use is simply kept this run), so it cannot deadlock with a writer either.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager

from registry_impl.errors import TooManyRequests
from registry_impl.storage import paths
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.claims import Claim

__all__ = ["BLOB_CLAIM_TTL", "BLOB_CLAIM_WAIT", "BlobBusy", "HeldBlobs", "blobs_claimed"]

#: Seconds a writer waits for a blob claim online GC holds (GC holds one for a few storage calls).
BLOB_CLAIM_WAIT = 5.0
#: Lease length where claims are leases (S3): held for a few storage calls.
BLOB_CLAIM_TTL = 15.0
_FIRST_PAUSE, _LONGEST_PAUSE = 0.002, 0.1


class BlobBusy(TooManyRequests):
    """Online garbage collection held the blob for longer than a writer waits."""

    def __init__(self, digest: str) -> None:
        super().__init__(
            "garbage collection is checking this blob; retry",
            detail={"digest": digest, "reason": "in use by garbage collection"},
        )
        self.headers = {"Retry-After": "1"}


def _take(driver: StorageDriver, digest: str, wait: float) -> Claim:
    path = paths.blob_claim_path(digest)
    deadline, pause = time.monotonic() + wait, _FIRST_PAUSE
    while True:
        claim = driver.try_claim(path, BLOB_CLAIM_TTL, shared=True)
        if claim is not None:
            return claim
        if time.monotonic() >= deadline:
            raise BlobBusy(digest)
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)


class HeldBlobs:
    """The blob claims a writer holds."""

    def __init__(self) -> None:
        self.claims: dict[str, Claim] = {}

    def confirm(self) -> None:
        """Check, after writing what protects the blobs, that every claim was held all along: a lease (S3)
        lost meanwhile (a process stalled past it) may have let online GC delete a blob before that write,
        so the write is not acknowledged (``BlobBusy``: the client retries and finds what is missing)."""
        for digest, claim in self.claims.items():
            if not claim.still_held():
                raise BlobBusy(digest)


@contextmanager
def blobs_claimed(
    driver: StorageDriver, digests: Iterable[str], wait: float = BLOB_CLAIM_WAIT
) -> Iterator[HeldBlobs]:
    """Hold the claims of ``digests`` (sorted, duplicates once; shared with other writers), released on exit
    whatever happens.

    Waiting sleeps the calling thread: a caller on the event loop passes ``wait=0`` (``BlobBusy`` at once,
    see ``Offload.claiming``)."""
    held = HeldBlobs()
    with ExitStack() as stack:
        for digest in sorted(set(digests)):
            held.claims[digest] = stack.enter_context(_take(driver, digest, wait))
        yield held
