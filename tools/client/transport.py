"""Retries: an httpx transport that repeats a request on 429, 5xx and connection errors, honouring Retry-After.

It wraps any other transport (``httpx.HTTPTransport``, ``httpx.MockTransport``, a test's ASGI bridge). A request is
repeated only when that is safe: its body must be replayable (bytes, not a stream already sent), and after a
failure *while* the request was on the wire only idempotent methods are repeated. A response status is retried
for every method: a registry answering 429 or 503 has not acted on the request. A request marked
``extensions={"idempotent": False}`` (the chunks and the closing PUT of an upload session, which the registry may have
half-applied) is never repeated once sent. Streams that break after the response started (a blob download cut
mid-body) and upload sessions are the caller's to resume (``blobs.py`` does, with Range and the session status).
"""

from __future__ import annotations

import email.utils
import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

__all__ = ["RetryPolicy", "RetryTransport", "retry_after"]

log = logging.getLogger("registry_client")

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    ``attempts`` counts every try (1 disables retries). The n-th retry waits ``backoff * 2**(n-1)`` seconds plus up
    to ``jitter`` of that at random, or what Retry-After asks; either is capped at ``max_delay``.
    """

    attempts: int = 5
    backoff: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.1

    def retry_status(self, status: int) -> bool:
        return status == 429 or (500 <= status < 600 and status not in (501, 505))

    def delay(self, retry: int, response: httpx.Response | None = None) -> float:
        asked = retry_after(response.headers.get("retry-after")) if response is not None else None
        if asked is not None:
            return float(min(asked, self.max_delay))
        base = self.backoff * 2 ** (retry - 1)
        return float(min(base + random.uniform(0, base * self.jitter), self.max_delay))


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for: delta-seconds or an HTTP-date; None when absent or malformed."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _tls_refused(exc: BaseException) -> bool:
    """A TLS failure (an untrusted certificate, a client certificate refused): waiting does not mend it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "alert" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class RetryTransport(httpx.BaseTransport):
    """Wraps ``inner``; repeats requests the policy allows, sleeping with ``sleep`` between tries."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        replayable = isinstance(request.stream, httpx.ByteStream)
        retry = 0
        while True:
            retry += 1
            last_try = retry >= self.policy.attempts or not replayable
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError as exc:
                idempotent = request.extensions.get("idempotent", request.method in IDEMPOTENT)
                safe = isinstance(exc, _NOT_SENT) or idempotent
                if last_try or not safe or _tls_refused(exc):
                    raise
                delay = self.policy.delay(retry)
                log.info("%s %s: %s; retrying in %.1fs", request.method, request.url, exc, delay)
                self.sleep(delay)
                continue
            if last_try or not self.policy.retry_status(response.status_code):
                return response
            delay = self.policy.delay(retry, response)
            response.close()
            log.info(
                "%s %s: HTTP %d; retrying in %.1fs", request.method, request.url, response.status_code, delay
            )
            self.sleep(delay)

    def close(self) -> None:
        self.inner.close()
