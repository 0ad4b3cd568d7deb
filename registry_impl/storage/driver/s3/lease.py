"""Claims on S3: a lease object per claim, written with conditional requests so the bucket decides.

Taking a claim is ``PutObject`` with ``If-None-Match: *`` (only one writer can create the key). A lease
holds its expiry time; a claimant that finds an expired lease replaces it with ``If-Match: <its ETag>``,
so of several claimants only one wins the takeover. ``renew`` rewrites the lease with ``If-Match`` on the
holder's own ETag (and fails with :class:`ClaimLost` once another holder took over); ``release`` deletes
it the same way. Clocks of replicas are trusted to a few seconds (the lease says when it expires, in UTC).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from botocore.exceptions import ClientError

from registry_impl.storage.driver.claims import Claim, ClaimLost

from .bucket import Bucket, error_code

__all__ = ["take_lease"]

_CONFLICT = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


def _body(ttl: float) -> bytes:
    return json.dumps({"expires": time.time() + ttl}).encode()


def _conditional_put(bucket: Bucket, key: str, ttl: float, **condition: str) -> str | None:
    """PutObject under a condition; the new ETag, or None when the condition failed."""
    try:
        response: dict[str, Any] = bucket.client.put_object(
            Bucket=bucket.name, Key=key, Body=_body(ttl), **condition
        )
    except ClientError as err:
        if error_code(err) in _CONFLICT or error_code(err) in ("NoSuchKey", "404"):
            return None
        raise
    return str(response["ETag"])


def take_lease(bucket: Bucket, path: str, key: str, ttl: float) -> Claim | None:
    """The claim on ``key``, or None while a live lease is held by someone else."""
    etag = _conditional_put(bucket, key, ttl, IfNoneMatch="*")
    if etag is not None:
        return _Lease(bucket, path, key, ttl, etag)
    try:
        current = bucket.client.get_object(Bucket=bucket.name, Key=key)
    except ClientError as err:
        if error_code(err) in ("NoSuchKey", "404"):
            return None  # released meanwhile: the caller tries again
        raise
    try:
        expires = float(json.loads(current["Body"].read())["expires"])
    except (ValueError, KeyError, TypeError):
        expires = 0.0  # unreadable: treat as expired
    if expires > time.time():
        return None
    etag = _conditional_put(bucket, key, ttl, IfMatch=str(current["ETag"]))
    return _Lease(bucket, path, key, ttl, etag) if etag is not None else None


class _Lease(Claim):
    def __init__(self, bucket: Bucket, path: str, key: str, ttl: float, etag: str) -> None:
        super().__init__(path)
        self._bucket = bucket
        self._key = key
        self._ttl = self.ttl = ttl
        self._etag = etag
        self._renewed = time.monotonic()
        self._lock = threading.Lock()

    def _renew(self) -> None:
        # one renewal at a time: the holder's writing thread and its keep-alive both renew, and the second of
        # two conditional writes on the same ETag would fail and take the lease for lost
        with self._lock:
            if self.released:
                raise ClaimLost(self.path)
            if time.monotonic() - self._renewed < self._ttl / 3:
                return  # still fresh: renewing every call would cost a request per chunk
            etag = _conditional_put(self._bucket, self._key, self._ttl, IfMatch=self._etag)
            if etag is None:
                self.released = True
                raise ClaimLost(self.path)
            self._etag, self._renewed = etag, time.monotonic()

    def _release(self) -> None:
        with self._lock:  # after a renewal in flight, with the ETag it wrote
            try:
                self._bucket.client.delete_object(Bucket=self._bucket.name, Key=self._key, IfMatch=self._etag)
            except ClientError as err:
                if error_code(err) not in _CONFLICT and error_code(err) not in ("NoSuchKey", "404"):
                    raise
