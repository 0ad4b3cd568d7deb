"""Each measurement, run against ours and the reference in alternating order, recorded as samples in Results.

A scenario returns ``{metric key: value}`` for one server; ``run_round`` runs every scenario once per server
(reference first in even rounds, ours first in odd ones), records what came back and turns an exception into
a failure of the scenario's first metric, so one broken measurement does not hide the others. A metric whose
setup check failed (``Bench.unequal``: the two registries would not do the same work) is not run at all. With
``--s3`` only the blob transfers run (``S3_SCENARIOS``): the rest is listed in ``S3_SKIPPED``, the note the
report prints.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from registry_toolkit import processes
from registry_toolkit.bench import loads, machine, servers, transfers
from registry_toolkit.bench.payloads import OCI_MANIFEST, BlobFile, Image, MiB, blob_dir
from registry_toolkit.bench.profiles import Profile
from registry_toolkit.bench.report import BASELINE, OURS, Results
from registry_toolkit.bench.s3 import MotoS3

IMAGE_REPO, TAGS_REPO, PUSH_REPO = "bench/image", "bench/tags", "bench/push"
ACCEPT = {"Accept": OCI_MANIFEST}


@dataclass
class Target:
    """One registry under test: ``side`` is ``ours`` or ``baseline`` (the reference)."""

    side: str
    process: servers.Process
    client: httpx.Client
    bucket: str = ""  # its S3 bucket under --s3
    # list metric → (entries, body bytes) of the answer the setup check read: what every timed answer must be
    listed: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Warmed:
    """One memory warm-up write (``--warm-memory``): the push it came before, and its rate."""

    metric: str
    side: str
    mib_per_s: float


@dataclass
class Bench:
    profile: Profile
    workdir: Path
    ours: Target
    reference: Target
    blob: BlobFile  # the pushed blob (a fresh digest per push)
    pulled: str  # the digest of the blob both registries serve for the pull
    big: BlobFile  # the blob of the RSS / CPU measurement
    image: Image
    server: str = "granian"
    workers: int = 2
    s3: MotoS3 | None = None  # the S3 server both registries store into, under --s3
    nginx: servers.Process | None = None  # serves the pulled blob's file: the limit line of a pull
    results: Results = field(default_factory=Results)
    unequal: set[str] = field(default_factory=set)  # metrics whose setup check failed: not measured
    warm_bytes: int = 0  # written and freed on /dev/shm right before each timed push (``--warm-memory``)
    warmed: list[Warmed] = field(default_factory=list)  # each of those writes, in the order of the pushes
    warm_writers: int = 0  # the CPUs those writes were shared among (a thread pinned to each)

    def targets(self, round_index: int) -> list[Target]:
        pair = [self.reference, self.ours]
        return pair if round_index % 2 == 0 else pair[::-1]


Measure = Callable[[Bench, Target], dict[str, float]]


STARTED = time.monotonic()


def progress(message: str) -> None:
    print(f"registry-bench [{time.monotonic() - STARTED:6.1f}s]: {message}", file=sys.stderr, flush=True)


def _mib_per_s(size: int, seconds: float) -> float:
    return float(size / MiB / seconds)


def _forget(bench: Bench, target: Target, digest: str) -> None:
    """Drop a pushed blob's bytes from the server's storage: keeps the disk (and dirty pages, or moto) small."""
    if bench.s3 is not None:
        bench.s3.forget_blob(target.bucket, digest)
    else:
        shutil.rmtree(blob_dir(target.process.root, digest), ignore_errors=True)


def _warm_memory(bench: Bench, metric: str, side: str) -> None:
    """Right before a timed push: write and free ``warm_bytes`` on /dev/shm, so that the pages the push then
    writes are ones the machine has touched (``machine.warm_memory``: on these VMs a page the guest returned
    to the host is slow to write again, and which side's push met such pages was left to chance)."""
    done = machine.warm_memory(bench.warm_bytes) if bench.warm_bytes else None
    if done is not None:
        bench.warmed.append(Warmed(metric, side, float(done["mib_per_s"])))
        bench.warm_writers = int(done["cpus"])


def push_mono(bench: Bench, target: Target) -> dict[str, float]:
    digest = bench.blob.fresh()
    _warm_memory(bench, "push-mono", target.side)
    speed = _mib_per_s(bench.blob.size, transfers.push_monolithic(target.client, PUSH_REPO, bench.blob))
    _forget(bench, target, digest)
    # The reference has no single-request upload: its monolithic push is the baseline of ours.
    return {"push-mono": speed, **({"push-single": speed} if target.side == BASELINE else {})}


def push_single(bench: Bench, target: Target) -> dict[str, float]:
    digest = bench.blob.fresh()
    _warm_memory(bench, "push-single", target.side)
    speed = _mib_per_s(bench.blob.size, transfers.push_single(target.process.url, PUSH_REPO, bench.blob))
    _forget(bench, target, digest)
    return {"push-single": speed}


def push_chunked(bench: Bench, target: Target) -> dict[str, float]:
    digest = bench.blob.fresh()
    _warm_memory(bench, "push-chunked", target.side)
    seconds = transfers.push_chunked(target.process.url, PUSH_REPO, bench.blob, bench.profile.chunk_mib * MiB)
    _forget(bench, target, digest)
    return {"push-chunked": _mib_per_s(bench.blob.size, seconds)}


def _cached(bench: Bench, side: str, path: Path) -> None:
    """Bring the file a pull reads into the page cache, and note how much of it is there: pulls are measured
    from memory on both sides. (Ours writes large uploads around the page cache with O_DIRECT, so the
    pulled blob, pushed at setup, would otherwise be read from the disk by ours and from memory by the
    reference.)"""
    servers.read_into_cache(path)
    fraction = servers.page_cached(path)
    if fraction is not None:
        bench.results.context.setdefault("page_cached", {}).setdefault(side, []).append(round(fraction, 3))


#: Transfers per pull sample, of which the sample is the median: one 128 MiB pull takes ~60-100 ms here, and
#: single transfers of the same file by nginx swung 1 250-2 250 MiB/s between the rounds of one run.
PULL_TRANSFERS = 5


def _pulled(base_url: str, path: str, size: int) -> float:
    """MiB/s: the median of ``PULL_TRANSFERS`` back-to-back pulls of ``path``."""
    speeds = sorted(_mib_per_s(size, transfers.pull(base_url, path, size)) for _ in range(PULL_TRANSFERS))
    return speeds[len(speeds) // 2]


def pull(bench: Bench, target: Target) -> dict[str, float]:
    path = f"/v2/{PUSH_REPO}/blobs/{bench.pulled}"
    if bench.s3 is None:
        side = target.side if target.side == OURS else "reference"
        _cached(bench, side, blob_dir(target.process.root, bench.pulled) / "data")
    speed = _pulled(target.process.url, path, bench.blob.size)
    return {"pull": speed, **({"pull-nginx": speed} if target.side == OURS else {})}


def pull_nginx(bench: Bench) -> dict[str, float]:
    if bench.nginx is None:
        raise loads.LoadFailed("nginx is not running")
    return {"pull-nginx": _pulled(bench.nginx.url, "/blob", bench.blob.size)}


def _load(
    bench: Bench, target: Target, path: str, method: str, connections: int, seconds: float
) -> tuple[loads.LoadResult, float]:
    """One wrk (GET, or the PUTs of ``manifest_push_script``) or ab (HEAD) run, and the server tree's
    CPU-seconds over it; non-2xx answers fail it. Afterwards the server is left to work off what is still
    queued before anything else is measured.
    """
    url, pid = target.process.url + path, target.process.pid
    before = servers.tree_cpu(pid)
    if method == "PUT":  # one connection per wrk thread, each PUTting new manifests to its own tag
        script = bench.workdir / f"manifest-push-{target.side}.lua"
        nonce = secrets.token_hex(8)
        script.write_text(loads.manifest_push_script(IMAGE_REPO, bench.image.manifest, OCI_MANIFEST, nonce))
        result = loads.wrk(url, connections=connections, seconds=seconds, script=script, threads=connections)
    elif method == "HEAD":
        result = loads.ab_head(url, connections=connections, seconds=seconds, headers=ACCEPT)
    else:
        result = loads.wrk(url, connections=connections, seconds=seconds, headers=ACCEPT)
    cpu = servers.tree_cpu(pid) - before
    waited = servers.wait_idle(pid)
    if waited > 1.0:
        progress(f"{target.process.name} worked {waited:.1f}s more on queued requests after {method} {path}")
    if result.non_2xx or not result.requests:
        raise loads.LoadFailed(f"{method} {path}: {result.requests} answers, {result.non_2xx} not 2xx")
    return result, cpu


def _shape(bench: Bench, key: str, warm_up: bool = False) -> tuple[int, float]:
    """Connections and seconds of a load run: manifests at full concurrency, list pages at a few."""
    profile = bench.profile
    manifest = key in ("manifest-get", "manifest-head")  # writes and list pages run at a few connections
    connections = profile.connections if manifest else profile.list_connections
    if warm_up:
        return connections, profile.warmup_seconds
    return connections, profile.load_seconds if manifest else profile.list_seconds


def _requests(key: str, path: Callable[[Bench], str], method: str) -> Measure:
    def measure(bench: Bench, target: Target) -> dict[str, float]:
        result, cpu = _load(bench, target, path(bench), method, *_shape(bench, key))
        if result.errors:  # timeouts under overload: the numbers stand, flagged
            problem = f"{result.errors} socket errors or timeouts beside {result.requests} answers"
            bench.results.fail(key, target.side, problem)
        if key in target.listed:
            unequal = same_work(result, target.listed[key][1])
            if unequal:
                bench.results.fail(key, target.side, unequal)
        return {
            key: result.rps,
            f"{key}-p50": result.p50_ms,
            f"{key}-p99": result.p99_ms,
            f"{key}-cpu": cpu / result.requests * 1000,
        }

    return measure


def same_work(result: loads.LoadResult, body: int) -> str | None:
    """Whether a list load's answers averaged the size of the list checked at setup (its body, plus headers
    and chunk framing within 5 % + 1 KiB): a registry answering shorter pages would otherwise look faster.
    """
    if result.bytes_read is None or not result.requests:
        return None
    each = result.bytes_read / result.requests
    if body <= each <= body * 1.05 + 1024:
        return None
    return f"unequal work: answers averaged {each:.0f} bytes, the checked list is {body} bytes"


def manifest_path(bench: Bench) -> str:
    return f"/v2/{IMAGE_REPO}/manifests/latest"


def manifest_put_path(bench: Bench) -> str:
    """Where wrk connects; the script names each PUT's tag (``put-<thread>``)."""
    return f"/v2/{IMAGE_REPO}/manifests/put"


def tags_path(bench: Bench) -> str:
    """No ``n``: the reference ignores it and answers every tag, and so does ours by default."""
    return f"/v2/{TAGS_REPO}/tags/list"


def catalog_path(bench: Bench) -> str:
    """The same ``n`` to both (each also has ``catalog.maxentries`` set to it): pages of the same length."""
    return f"/v2/_catalog?n={bench.profile.catalog_page}"


REQUESTS: list[tuple[str, Callable[[Bench], str], str]] = [
    ("manifest-get", manifest_path, "GET"),
    ("manifest-head", manifest_path, "HEAD"),
    ("manifest-put", manifest_put_path, "PUT"),
    ("tags", tags_path, "GET"),
    ("catalog", catalog_path, "GET"),
]


def resources(bench: Bench, target: Target) -> dict[str, float]:
    """Peak RSS (sampled every 50 ms) and CPU-seconds of the server tree over one big push and its pull."""
    pid, blob = target.process.pid, bench.big
    digest = blob.fresh()
    idle, idle_pss = servers.tree_rss(pid), servers.tree_pss(pid)
    cpu0 = servers.tree_cpu(pid)
    with servers.RssSampler(pid) as pushing:
        transfers.push_monolithic(target.client, PUSH_REPO, blob)
    if bench.s3 is None:  # pulled from memory on both sides, as in ``pull`` (see ``_cached``)
        servers.read_into_cache(blob_dir(target.process.root, digest) / "data")
    cpu1 = servers.tree_cpu(pid)
    with servers.RssSampler(pid) as pulling:
        transfers.pull(target.process.url, f"/v2/{PUSH_REPO}/blobs/{digest}", blob.size)
    cpu2 = servers.tree_cpu(pid)
    _forget(bench, target, digest)
    gib = blob.size / (1 << 30)
    return {
        "rss-idle": idle / MiB,
        "rss-push": pushing.peak / MiB,
        "rss-pull": pulling.peak / MiB,
        "pss-idle": idle_pss / MiB,
        "pss-push": pushing.peak_pss / MiB,
        "pss-pull": pulling.peak_pss / MiB,
        "cpu-push": (cpu1 - cpu0) / gib,
        "cpu-pull": (cpu2 - cpu1) / gib,
    }


@dataclass(frozen=True)
class Scenario:
    """A measurement: its name in progress lines, the metric a failure is charged to, whether ours alone runs it."""

    name: str
    primary: str
    measure: Measure
    ours_only: bool = False


SCENARIOS: list[Scenario] = [
    Scenario("push-mono", "push-mono", push_mono),
    Scenario("push-single", "push-single", push_single, ours_only=True),
    Scenario("push-chunked", "push-chunked", push_chunked),
    Scenario("pull", "pull", pull),
    *(Scenario(key, key, _requests(key, path, method)) for key, path, method in REQUESTS),
    Scenario("resources", "rss-push", resources),
]


S3_SCENARIOS = ("push-mono", "push-single", "push-chunked", "pull")
S3_SKIPPED = (
    "skipped with --s3: manifest GET/HEAD, tags list and catalog page (their content is seeded as files"
    " into the data dirs), RSS/CPU and cold start; pulls are served by the registries (redirect disabled)"
)


def scenarios_of(bench: Bench) -> list[Scenario]:
    if bench.s3 is None:
        return SCENARIOS
    return [scenario for scenario in SCENARIOS if scenario.name in S3_SCENARIOS]


def record(results: Results, side: str, primary: str, measure: Callable[[], dict[str, float]]) -> None:
    try:
        for key, value in measure().items():
            results.add(key, side, value)
    except Exception as exc:  # one failed measurement must not end the run: it is reported instead
        results.fail(primary, side, f"{type(exc).__name__}: {exc}")
        progress(f"FAILED {primary} on {side}: {exc}")


def run_round(bench: Bench, round_index: int) -> None:
    for scenario in scenarios_of(bench):
        for target in bench.targets(round_index):
            if scenario.ours_only and target.side != OURS:
                continue
            if scenario.primary in bench.unequal:
                continue  # its setup check failed: already reported, and not the same work on both
            progress(f"round {round_index + 1}: {scenario.name} on {target.process.name}")
            servers.wait_idle(target.process.pid)
            record(bench.results, target.side, scenario.primary, partial(scenario.measure, bench, target))
        if scenario.measure is pull:
            progress(f"round {round_index + 1}: pull from nginx")
            record(bench.results, BASELINE, "pull-nginx", partial(pull_nginx, bench))


def warm_up(bench: Bench) -> None:
    """One untimed monolithic push, then one untimed run of the manifest scenarios, per server (list pages were
    fetched once by the setup check).

    The push: the first large push after the setup measured slow on tmpfs, whichever kind it was — ours alone
    on /dev/shm, six sequences of 2026-12-04 night: 198-460 MiB/s, at 1.0-2.6 s of server system time per
    512 MiB where measured, against 0.31-0.43 s for most pushes after it, with as many pages allocated — and
    the first timed push of ours is its monolithic one."""
    if bench.s3 is not None:
        return
    for target in bench.targets(0):
        progress(f"warm-up: push-mono on {target.process.name}")
        try:
            digest = bench.blob.fresh()
            transfers.push_monolithic(target.client, PUSH_REPO, bench.blob)
            _forget(bench, target, digest)
        except loads.LoadFailed as exc:
            progress(f"warm-up push on {target.process.name} failed: {exc}")
    if bench.profile.warmup_seconds <= 0:
        return
    for key, path, method in (r for r in REQUESTS if r[0].startswith("manifest")):
        for target in bench.targets(0):
            progress(f"warm-up: {key} on {target.process.name}")
            try:
                _load(bench, target, path(bench), method, *_shape(bench, key, warm_up=True))
            except loads.LoadFailed as exc:
                progress(f"warm-up of {key} on {target.process.name} failed: {exc}")


#: A request every registry answers 404 (no such upload), and that ours serves through its framework (connexion,
#: built in the background once a worker serves the fast path): its answer times the start of every operation.
EVERY_OPERATION = "/v2/bench/cold/blobs/uploads/0c0ab1b4-0d2c-4c5e-9a47-5a3e4c1d2e3f"


def cold_start(bench: Bench, side: str, attempt: int) -> dict[str, float]:
    """Spawn a fresh server on an empty data dir; seconds from spawn to the first 200 on ``/v2/``
    (``cold-start``) and to the first answer to ``EVERY_OPERATION`` (``cold-start-all``), polled from
    before the spawn by a thread of its own."""
    workdir = bench.workdir / "cold" / f"{side}-{attempt}"
    port = processes.free_port()
    answered = _first_answer(f"http://127.0.0.1:{port}{EVERY_OPERATION}", 404)
    if side == OURS:
        process = servers.start_ours(
            workdir, workdir / "data", server=bench.server, workers=bench.workers, port=port
        )
    else:
        process = servers.start_reference(workdir, workdir / "data", port=port)
    try:
        every = answered.result(timeout=30)
        return {"cold-start": process.startup_s, "cold-start-all": every - process.spawned_at}
    finally:
        process.stop(grace=0.0)  # measured already; a graceful stop of ours can take seconds


def _first_answer(url: str, status: int) -> Future[float]:
    """The ``time.monotonic()`` of the first answer with ``status`` to GET ``url``, asked every 5 ms
    (refused connections and other answers ask again) from a thread, for 30 s."""
    done: Future[float] = Future()

    def poll() -> None:
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get(url).status_code == status:
                        done.set_result(time.monotonic())
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.005)
        done.set_exception(TimeoutError(f"no {status} from {url} within 30 s"))

    threading.Thread(target=poll, daemon=True).start()
    return done
