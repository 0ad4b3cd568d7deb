"""Claims: ownership of a path, enforced by the storage itself, across threads, processes and hosts.

Two requests that can reach one thing at once (an upload session, a tag, a manifest revision) take its
claim first; the storage decides who holds it, so workers and replicas agree without talking. A claim is
held until ``release`` or until its holder dies:

- filesystem: a byte-range lock in one lock file (``rangelocks``; an ``flock`` on a lock file where the
  platform has no OFD locks); the kernel drops it when the process exits, kill -9 included;
- S3: a lease object created with ``If-None-Match: *``, renewed and taken over with ``If-Match``; a dead
  holder's lease is taken over once it has expired (``ttl`` seconds after its last renewal);
- in-memory (and the default for other drivers): the held paths in this process.

A claim is exclusive unless asked for ``shared``: shared claims of one path are held side by side, never
alongside an exclusive one (writers that only need to keep online GC away from a blob share its claim; GC
takes it exclusively). A backend that cannot share (S3 leases, lock files) grants a shared claim
exclusively: stronger than asked, so still correct, only without the concurrency.

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

    _EXCLUSIVE = -1

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}  # path -> shared holders, or _EXCLUSIVE

    def try_claim(self, path: str, *, shared: bool = False) -> Claim | None:
        with self._lock:
            holders = self._held.get(path, 0)
            if holders == self._EXCLUSIVE or (holders and not shared):
                return None
            self._held[path] = holders + 1 if shared else self._EXCLUSIVE
        return _LocalClaim(path, self)

    def drop(self, path: str) -> None:
        with self._lock:
            holders = self._held.pop(path, 0)
            if holders > 1:
                self._held[path] = holders - 1


class _LocalClaim(Claim):
    def __init__(self, path: str, owner: LocalClaims) -> None:
        super().__init__(path)
        self._owner = owner

    def _release(self) -> None:
        self._owner.drop(self.path)
