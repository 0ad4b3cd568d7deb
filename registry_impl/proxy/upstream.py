"""The configured upstreams, the one a repository falls under, and the calls made to it.

Calls go through ``registry_client`` (its auth answers Basic and Bearer challenges with the configured
credentials; its transport retries briefly). An upstream that cannot be reached, or answers 5xx or 429,
raises :class:`UpstreamUnavailable` (503, naming the upstream and the problem); a 404 raises the
caller's "unknown" error; any other refusal (401, 403) is reported as unavailable too: to our client
it is a problem of the upstream, not of its request.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from registry_client import Credential, RegistryClient, RetryPolicy
from registry_client.bodies import READ_RAW
from registry_client.errors import ClientError, RegistryError
from registry_client.manifests import ACCEPT
from registry_spec import urls

from registry_impl.config.model import UpstreamConfig
from registry_impl.errors import BlobUnknown, ManifestUnknown, NameUnknown, Unavailable

__all__ = ["STATS", "BlobStream", "Upstream", "UpstreamUnavailable", "count"]

log = logging.getLogger("registry.proxy")

#: Counters of this process: ``stale_tag`` (a tag served from its last known value through an outage),
#: ``upstream_unavailable`` (a call that failed), ``blob_fetch`` / ``manifest_fetch`` (upstream fetches).
#: Each is also the Prometheus counter ``registry_proxy_events_total{event}`` (exported with the others
#: when ``http.debug.prometheus`` is on).
STATS: Counter[str] = Counter()


@functools.cache
def _prometheus() -> Any:
    from prometheus_client import Counter as PromCounter  # created on first use: importing changes nothing

    return PromCounter("registry_proxy_events", "Pull-through cache events (proxy).", ["event"])


def count(event: str) -> None:
    """One more ``event`` in ``STATS`` and in the Prometheus counter."""
    STATS[event] += 1
    with contextlib.suppress(Exception):  # metrics must never fail a pull
        _prometheus().labels(event).inc()


#: Connecting to an upstream gives up after this many seconds; reading after ``READ_TIMEOUT``.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0
RETRY = RetryPolicy(attempts=2, backoff=0.2, max_delay=1.0)
CHUNK = 1 << 20


class UpstreamUnavailable(Unavailable):
    """The upstream could not answer (unreachable, 5xx, 429, refused our credentials)."""

    def __init__(self, upstream: str, reason: str) -> None:
        super().__init__(
            f"upstream registry {upstream} is unavailable: {reason}",
            detail={"upstream": upstream, "reason": reason},
        )


@dataclass
class Upstream:
    """One upstream registry and the repositories it serves (``prefix``; empty: every other one)."""

    config: UpstreamConfig
    _client: RegistryClient | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def prefix(self) -> str:
        return self.config.prefix

    @property
    def url(self) -> str:
        return self.config.remoteurl.rstrip("/")

    @property
    def ttl(self) -> timedelta:
        return self.config.ttl

    def remote_name(self, name: str) -> str:
        """The repository's name at the upstream: without the prefix."""
        return name[len(self.prefix) + 1 :] if self.prefix else name

    @property
    def client(self) -> RegistryClient:
        with self._lock:  # made on first use, in the worker process
            if self._client is None:
                credential = (
                    Credential(self.config.username, self.config.password) if self.config.username else None
                )
                self._client = RegistryClient(
                    self.url,
                    credentials=credential,
                    retry=RETRY,
                    timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                )
            return self._client

    @contextlib.contextmanager
    def failures(
        self, unknown: type[ManifestUnknown] | type[BlobUnknown] | type[NameUnknown], what: dict[str, str]
    ) -> Iterator[None]:
        """Turn the client's exceptions into registry errors (see the module docstring)."""
        try:
            yield
        except RegistryError as exc:
            if exc.status == 404:
                raise unknown(detail=what) from exc
            count("upstream_unavailable")
            raise UpstreamUnavailable(self.url, f"HTTP {exc.status} {exc.code or ''}".strip()) from exc
        except (ClientError, httpx.HTTPError) as exc:
            count("upstream_unavailable")
            raise UpstreamUnavailable(self.url, str(exc) or type(exc).__name__) from exc

    # --- calls (blocking: the services run them in a worker thread) ---------------------------------

    def head_manifest(self, name: str, reference: str) -> str:
        """The digest a tag (or digest) names at the upstream."""
        with self.failures(ManifestUnknown, {"reference": reference}):
            return self.client.manifests.resolve(self.remote_name(name), reference).digest

    def get_manifest(self, name: str, reference: str) -> tuple[bytes, str, str]:
        """The manifest's bytes (verified against a digest reference), media type and digest."""
        with self.failures(ManifestUnknown, {"reference": reference}):
            manifest = self.client.manifests.get(self.remote_name(name), reference, ACCEPT)
        count("manifest_fetch")
        return manifest.content, manifest.media_type, manifest.digest

    def tags(self, name: str) -> list[str]:
        """Every tag of the repository at the upstream (following its pages)."""
        with self.failures(NameUnknown, {"name": name}):
            return self.client.tags.list(self.remote_name(name))

    def head_blob(self, name: str, digest: str) -> int:
        """The blob's size at the upstream."""
        with self.failures(BlobUnknown, {"digest": digest}):
            size = self.client.blobs.exists(self.remote_name(name), digest)
        if size is None:
            raise BlobUnknown(detail={"digest": digest})
        return size

    def open_blob(self, name: str, digest: str) -> BlobStream:
        """A GET of the blob, its headers read; the caller reads and closes it.

        The body is taken raw (``READ_RAW``, ``iter_raw``), as the client reads a layer: never inflated (its
        digest is over the bytes as stored: a ``Content-Encoding`` on it is the digest's to refuse), and not
        held to the client's bound on bodies read whole (16 MiB), which cut every larger blob short."""
        session = self.client.session
        with self.failures(BlobUnknown, {"digest": digest}):
            cm = session.stream(
                "GET",
                urls.blob(self.remote_name(name), digest),
                not_found="BLOB_UNKNOWN",
                headers={"Accept-Encoding": "identity"},
                follow_redirects=True,
                extensions=READ_RAW,
            )
            response = cm.__enter__()
        length = response.headers.get("content-length", "")
        # A response already read (an in-memory transport's) has nothing raw left: its content is the body.
        chunks = iter([response.content]) if response.is_stream_consumed else response.iter_raw(CHUNK)
        return BlobStream(self, cm, chunks, int(length) if length.isdigit() else None)

    def reachable(self) -> bool:
        """Whether the upstream answers ``GET /v2/`` with our credentials now."""
        try:
            self.client.ping()
        except (ClientError, httpx.HTTPError):
            return False
        return True

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@dataclass
class BlobStream:
    """An open upstream GET: ``read`` the next chunk (b"" at the end), ``close`` when done."""

    upstream: Upstream
    _cm: contextlib.AbstractContextManager[httpx.Response]
    _chunks: Iterator[bytes]
    size: int | None

    def read(self) -> bytes:
        try:
            return next(self._chunks, b"")
        except httpx.HTTPError as exc:
            count("upstream_unavailable")
            raise UpstreamUnavailable(self.upstream.url, f"transfer broken: {exc}") from exc

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._cm.__exit__(None, None, None)
