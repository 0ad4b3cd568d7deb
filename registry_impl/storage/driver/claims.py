"""Claims: exclusive ownership of a path, enforced by the storage itself, across threads, processes and hosts.

Two requests that can reach one thing at once (an upload session, a tag, a manifest revision) take its
claim first; the storage decides who holds it, so workers and replicas agree without talking. A claim is
held until ``release`` or until its holder dies:

- filesystem: an ``flock`` on a lock file; the kernel drops it when the process exits, kill -9 included;
- S3: a lease object created with ``If-None-Match: *``, renewed and taken over with ``If-Match``; a dead
  holder's lease is taken over once it has expired (``ttl`` seconds after its last renewal);
- in-memory (and the default for other drivers): a set of held paths in this process.

A holder doing long work calls ``renew`` now and then (cheap where leases do not expire); ``renew`` raises
:class:`ClaimLost` when the lease was taken over, and the holder must stop writing.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from types import TracebackType

__all__ = ["CLAIM_TTL", "Claim", "ClaimLost", "LocalClaims"]

#: Seconds a lease lasts without renewal (drivers whose claims die with their holder ignore it).
CLAIM_TTL = 30.0


class ClaimLost(Exception):
    """The claim's lease expired and another holder took it over."""


class Claim(ABC):
    """Exclusive ownership of one path until :meth:`release`.

    ``ttl``: seconds the claim lasts without a renewal where it is a lease (S3), None where it lasts as long
    as its holder (a holder keeps a lease alive with :meth:`renew` at least every ``ttl / 3`` seconds).
    """

    ttl: float | None = None

    def __init__(self, path: str) -> None:
        self.path = path
        self.released = False

    def renew(self) -> None:
        """Extend the claim; :class:`ClaimLost` if it is no longer ours."""
        if self.released:
            raise ClaimLost(self.path)
        self._renew()

    def still_held(self) -> bool:
        """``renew``, answered: False once the claim is no longer ours (a lease renewed only when due)."""
        try:
            self.renew()
        except ClaimLost:
            return False
        return True

    def release(self) -> None:
        """Give the claim up (idempotent); what it protected is free for the next holder."""
        if self.released:
            return
        self.released = True
        self._release()

    def __enter__(self) -> Claim:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def _renew(self) -> None:  # noqa: B027 - claims that cannot expire have nothing to renew
        """Extend the lease (by default there is none)."""

    @abstractmethod
    def _release(self) -> None: ...


class LocalClaims:
    """Claims held in this process only: right for storage no other process can see (in-memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[str] = set()

    def try_claim(self, path: str) -> Claim | None:
        with self._lock:
            if path in self._held:
                return None
            self._held.add(path)
        return _LocalClaim(path, self)

    def drop(self, path: str) -> None:
        with self._lock:
            self._held.discard(path)


class _LocalClaim(Claim):
    def __init__(self, path: str, owner: LocalClaims) -> None:
        super().__init__(path)
        self._owner = owner

    def _release(self) -> None:
        self._owner.drop(self.path)
