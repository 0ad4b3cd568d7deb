"""Prometheus metrics under distribution's names, recorded through ``prometheus_client``.

HTTP (``RequestMetrics``, an ASGI middleware): ``registry_http_requests_total{code,handler,method}``,
``registry_http_request_duration_seconds{handler,method}``, ``registry_http_in_flight_requests{handler}``,
``registry_http_response_size_bytes{handler,method}``; ``handler`` is the descriptor's operationId
(``get_manifest``) or ``other`` — never a repository name or a digest. Ours, from the same middleware:
``registry_storage_bytes_pushed_total`` / ``registry_storage_bytes_pulled_total`` (blob bodies) and
``registry_uploads_total{event}`` (started, completed, cancelled).

Storage (``instrument_driver``): ``registry_storage_action_seconds{driver,action}`` per driver method.
Cache (``instrument_cache``): ``registry_storage_cache_total{type}`` (Request, Hit, Miss), as distribution.
GC (``gc_run``): ``registry_gc_runs_total{mode}`` and ``registry_gc_blobs_deleted_total`` (the report
lists blobs, not their sizes: no bytes-reclaimed figure).

Every update is gathered in a per-process ``Tally`` (an append per request or storage action) and written
to the metrics once a second, so a scrape may lag the last second. Metrics are created once per process
in ``prometheus_client``'s default registry, so whatever another
module registers there is exported too; with several workers ``PROMETHEUS_MULTIPROC_DIR`` (set by
``registry serve`` before they start) makes every process write its values where the debug listener's
``MultiProcessCollector`` merges them. Nothing here runs unless ``http.debug.prometheus.enabled``.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from registry_spec.router import ROUTER
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry_impl.observability.requestids import observed

__all__ = [
    "Metrics",
    "RequestMetrics",
    "Tally",
    "gc_run",
    "instrument_cache",
    "instrument_driver",
    "metrics",
    "tally",
]

FLUSH_INTERVAL = 1.0  # seconds between writes of the tally into prometheus_client
MAX_PENDING = 100_000  # records kept before a request flushes them itself
OTHER = "other"  # a request no route of the descriptor matches
DRIVER_ACTIONS = (
    "get_content",
    "put_content",
    "reader",
    "writer",
    "stat",
    "list",
    "move",
    "delete",
    "redirect_url",
)
PUSH_HANDLERS = frozenset({"start_upload", "patch_upload", "complete_upload"})
PULL_HANDLERS = frozenset({"get_blob"})
SIZE_BUCKETS = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456)


@dataclass(frozen=True)
class Metrics:
    requests: Counter
    duration: Histogram
    in_flight: Gauge
    response_size: Histogram
    bytes_pushed: Counter
    bytes_pulled: Counter
    uploads: Counter
    storage_action: Histogram
    cache: Counter
    gc_runs: Counter
    gc_blobs_deleted: Counter


@functools.cache
def metrics() -> Metrics:
    """This process's metrics, registered in the default registry on first use."""
    return Metrics(
        requests=Counter(
            "registry_http_requests",
            "Requests by status code, handler and method.",
            ["code", "handler", "method"],
        ),
        duration=Histogram(
            "registry_http_request_duration_seconds", "Time to answer a request.", ["handler", "method"]
        ),
        in_flight=Gauge(
            "registry_http_in_flight_requests",
            "Requests being answered.",
            ["handler"],
            multiprocess_mode="livesum",
        ),
        response_size=Histogram(
            "registry_http_response_size_bytes",
            "Response body sizes.",
            ["handler", "method"],
            buckets=SIZE_BUCKETS,
        ),
        bytes_pushed=Counter("registry_storage_bytes_pushed", "Blob bytes received in uploads."),
        bytes_pulled=Counter("registry_storage_bytes_pulled", "Blob bytes served by blob GETs."),
        uploads=Counter("registry_uploads", "Blob upload sessions by event.", ["event"]),
        storage_action=Histogram(
            "registry_storage_action_seconds", "Time a storage driver method takes.", ["driver", "action"]
        ),
        cache=Counter("registry_storage_cache", "Blob descriptor cache lookups by result.", ["type"]),
        gc_runs=Counter("registry_gc_runs", "Garbage collection runs.", ["mode"]),
        gc_blobs_deleted=Counter("registry_gc_blobs_deleted", "Blobs garbage collection deleted."),
    )


def handler_of(scope: Scope) -> str:
    """The operationId the descriptor's router gives the request, or ``other``."""
    return _handler(scope["method"], scope["path"])


@functools.lru_cache(maxsize=4096)  # hot paths (a pulled manifest, a polled tag list) recur
def _handler(method: str, path: str) -> str:
    routed = ROUTER.match(path)
    if routed is None:
        return OTHER
    operation = routed[0].operations.get(method)
    if operation is None and method == "HEAD":
        operation = routed[0].operations.get("GET")
    return operation.operation_id if operation is not None else OTHER


def _upload_event(handler: str, status: int) -> str | None:
    if handler == "start_upload":
        return "started" if status == 202 else "completed" if status == 201 else None
    if handler == "complete_upload" and status == 201:
        return "completed"
    if handler == "cancel_upload" and status == 204:
        return "cancelled"
    return None


class Tally:
    """Observations gathered in plain Python and written to ``prometheus_client`` by ``flush`` (once a
    second in a server): an update of a multiprocess metric is a locked write into a memory-mapped file,
    ~7 of them a request cost a manifest GET a fifth of its throughput; one append costs nothing.
    Deques: storage actions are recorded from worker threads."""

    def __init__(self) -> None:
        self.m = metrics()
        self.requests: deque[tuple[str, str, int, float, int, int]] = deque()
        self.counts: deque[tuple[Any, tuple[str, ...], float]] = deque()
        self.observations: deque[tuple[Any, tuple[str, ...], float]] = deque()
        self.in_flight: dict[str, int] = {}
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def child(self, metric: Any, labels: tuple[str, ...]) -> Any:
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels) if labels else metric
        return found

    def flush(self) -> None:
        """Write everything gathered since the last flush."""
        m = self.m
        counts: dict[tuple[Any, tuple[str, ...]], float] = defaultdict(float)
        observed: dict[tuple[Any, tuple[str, ...]], list[float]] = defaultdict(list)
        while self.requests:
            handler, method, status, elapsed, size, pushed = self.requests.popleft()
            counts[(m.requests, (str(status), handler, method))] += 1
            observed[(m.duration, (handler, method))].append(elapsed)
            observed[(m.response_size, (handler, method))].append(size)
            if pushed:
                counts[(m.bytes_pushed, ())] += pushed
            if handler in PULL_HANDLERS and status in (200, 206):
                counts[(m.bytes_pulled, ())] += size
            event = _upload_event(handler, status)
            if event is not None:
                counts[(m.uploads, (event,))] += 1
        while self.counts:
            metric, labels, amount = self.counts.popleft()
            counts[(metric, labels)] += amount
        while self.observations:
            metric, labels, value = self.observations.popleft()
            observed[(metric, labels)].append(value)
        for (metric, labels), amount in counts.items():
            self.child(metric, labels).inc(amount)
        for (metric, labels), values in observed.items():
            _observe_many(self.child(metric, labels), values)
        for handler, value in self.in_flight.items():
            self.child(m.in_flight, (handler,)).set(value)

    async def flush_forever(self, interval: float = FLUSH_INTERVAL) -> None:
        try:
            while True:
                await asyncio.sleep(interval)
                self.flush()
        finally:
            self.flush()


def _observe_many(child: Any, values: list[float]) -> None:
    """``child.observe`` for each value, with one write per bucket touched (the histogram's internals,
    stable across prometheus_client releases; observe one by one where they are not there)."""
    bounds, buckets, total = (getattr(child, name, None) for name in ("_upper_bounds", "_buckets", "_sum"))
    if bounds is None or buckets is None or total is None:
        for value in values:
            child.observe(value)
        return
    hits = [0] * len(bounds)
    for value in values:
        hits[bisect.bisect_left(bounds, value)] += 1
    total.inc(sum(values))
    for index, count in enumerate(hits):
        if count:
            buckets[index].inc(count)


@functools.cache
def tally() -> Tally:
    """This process's tally (one per process, as the metrics)."""
    return Tally()


class RequestMetrics:
    """Counts, times and sizes every HTTP request into the tally; flushes it while the server runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tally = tally()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            task = asyncio.create_task(self.tally.flush_forever())
            try:
                await self.app(scope, receive, send)
            finally:
                task.cancel()
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler, method = handler_of(scope), scope["method"]
        info, send = observed(send)
        pushed = 0
        if handler in PUSH_HANDLERS:

            async def counted_receive() -> Message:
                nonlocal pushed
                message = await original_receive()
                pushed += len(message.get("body", b""))
                return message

            original_receive, receive = receive, counted_receive
        in_flight = self.tally.in_flight
        in_flight[handler] = in_flight.get(handler, 0) + 1
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            in_flight[handler] -= 1
            elapsed = time.perf_counter() - started
            size = abs(info.size) if method != "HEAD" else 0
            requests = self.tally.requests
            requests.append((handler, method, info.status or 500, elapsed, size, pushed))
            if len(requests) > MAX_PENDING:  # no lifespan to flush from (a server without it): flush here
                self.tally.flush()


def _timed(tally: Tally, labels: tuple[str, ...], fn: Callable[..., Any]) -> Callable[..., Any]:
    histogram, record = tally.m.storage_action, tally.observations.append

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            record((histogram, labels, time.perf_counter() - started))

    return timed


def instrument_driver(driver: Any, name: str) -> Any:
    """Time each of ``driver``'s methods (on this instance) in ``registry_storage_action_seconds``."""
    for action in DRIVER_ACTIONS:
        method = getattr(driver, action, None)
        if method is not None:
            setattr(driver, action, _timed(tally(), (name, action), method))
    return driver


class _CountedScope:
    """A repository-scoped cache service whose ``stat`` is counted; everything else is the service's."""

    def __init__(self, service: Any, counted: Callable[[Callable[[str], Any]], Callable[[str], Any]]) -> None:
        self._service = service
        self.stat = counted(service.stat)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)


def instrument_cache(cache: Any) -> Any:
    """Count the blob descriptor cache's lookups (registry-wide and per repository) by result."""
    counter, record = metrics().cache, tally().counts.append
    request, hit, miss = ((counter, (kind,), 1) for kind in ("Request", "Hit", "Miss"))

    def counted_stat(stat: Callable[[str], Any]) -> Callable[[str], Any]:
        def counted(digest: str) -> Any:
            record(request)
            found = stat(digest)
            record(miss if found is None else hit)
            return found

        return counted

    cache.stat = counted_stat(cache.stat)
    scoped = cache.repository_scoped

    def repository_scoped(name: str) -> Any:
        # A proxy, never the service itself: a cache may hand out one shared service (NoCache does),
        # which would gather a wrapper per request.
        return _CountedScope(scoped(name), counted_stat)

    cache.repository_scoped = repository_scoped
    return cache


def gc_run(mode: str, blobs_deleted: int = 0) -> None:
    """Record one garbage collection run (``mode``: online) and the blobs it deleted."""
    m = metrics()
    m.gc_runs.labels(mode).inc()
    if blobs_deleted:
        m.gc_blobs_deleted.inc(blobs_deleted)
