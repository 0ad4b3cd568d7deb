"""No stalls: quick requests stay quick while hostile and slow ones run beside them, on one worker.

Against a real server (granian and uvicorn, one worker each — the hardest case — on the filesystem and on S3),
``GET /v2/`` and a manifest GET in another repository must keep a p99 under 50 ms while, all at once: a 4 MiB
manifest with ~27 000 descriptors is PUT again and again (each must be refused, 400 MANIFEST_INVALID), a
client trickles a PATCH at 1 KB/s, 200 idle keep-alive connections stay open, and — on S3 — requests for one
repository's keys take 2 s (moto behind a proxy that holds every request naming that repository).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from testkit import s3
from testkit.processes import Server, ours_command, start_ours
from testkit.proxy import DelayingProxy

CONFIGURATIONS = {
    "granian-filesystem": ("granian", "filesystem"),
    "granian-s3": ("granian", "s3"),
    "uvicorn-filesystem": ("uvicorn", "filesystem"),
    "uvicorn-s3": ("uvicorn", "s3"),
}
P99_LIMIT = 0.050
WINDOW = 5.0  # seconds of measurement, after the hostile load has started
STALLED = "stalled-repository"  # S3 keys naming it are held for S3_DELAY seconds
S3_DELAY = 2.0
IDLE_CONNECTIONS = 200
REFUSAL_PAUSE = 0.05  # between two PUTs of the huge manifest (~10 a second)
MANIFEST_LIMIT = 4 * 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _descriptor(media_type: str, content: bytes) -> dict[str, Any]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(content).hexdigest(),
        "size": len(content),
    }


def huge_manifest() -> bytes:
    """An OCI manifest just under 4 MiB: as many layer descriptors as fit."""

    def build(count: int) -> bytes:
        layers = [_descriptor("application/vnd.oci.image.layer.v1.tar+gzip", b"%d" % i) for i in range(count)]
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _descriptor("application/vnd.oci.image.config.v1+json", b"{}"),
            "layers": layers,
        }
        return json.dumps(document, separators=(",", ":")).encode()

    body = build(30_000)
    while len(body) > MANIFEST_LIMIT:
        body = build(int(30_000 * MANIFEST_LIMIT / len(body)) - 100)
    return body


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(math.ceil(0.99 * len(ordered)) - 1, 0)]


@pytest.fixture(scope="module")
def slow_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[s3.MotoS3, DelayingProxy]]:
    s3.require()
    moto = s3.start_moto(tmp_path_factory.mktemp("no-stall-moto"))
    proxy = DelayingProxy(int(moto.endpoint.rsplit(":", 1)[1]), marker=STALLED.encode(), delay=S3_DELAY)
    try:
        yield moto, proxy
    finally:
        proxy.close()
        moto.stop()


@pytest.fixture(params=sorted(CONFIGURATIONS))
def target(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, Server, DelayingProxy | None]]:
    if ours_command() is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    kind, storage = CONFIGURATIONS[request.param]
    overrides: dict[str, Any] | None = None
    proxy = None
    if storage == "s3":
        moto, proxy = request.getfixturevalue("slow_s3")
        params = moto.params(moto.bucket("no-stall"), regionendpoint=proxy.endpoint)
        overrides = {"storage": {"filesystem": None, "s3": params, "redirect": {"disable": True}}}
    server = start_ours(tmp_path, overrides, server=kind, workers=1)
    try:
        yield request.param, server, proxy
    finally:
        server.stop()


def _push_image(client: httpx.Client, name: str) -> str:
    config, layer = b'{"architecture":"amd64","os":"linux"}', b"a small layer"
    for content in (config, layer):
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        answer = client.post(f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=content)
        assert answer.status_code == 201, answer.text
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
    }
    answer = client.put(
        f"/v2/{name}/manifests/v1", content=json.dumps(document), headers={"Content-Type": OCI_MANIFEST}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.headers["docker-content-digest"])


class Loads:
    """Background clients that run until ``stop``; each records what it saw."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.refusals: list[tuple[int, str]] = []
        self.stalled: list[float] = []
        self.trickled = 0
        self.errors: list[str] = []

    def start(self, fn: Callable[[], None]) -> None:
        def run() -> None:
            try:
                fn()
            except Exception as exc:  # reported by the test
                self.errors.append(f"{fn.__name__}: {exc!r}")

        thread = threading.Thread(target=run, name=fn.__name__, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(S3_DELAY * 4 + 10)

    def refuse_huge(self, body: bytes) -> Callable[[], None]:
        def refuse_huge() -> None:
            with httpx.Client(base_url=self.server.url, timeout=60) as client:
                while not self.stopping.is_set():
                    answer = client.put(
                        "/v2/hostile/manifests/huge", content=body, headers={"Content-Type": OCI_MANIFEST}
                    )
                    codes = [e.get("code", "") for e in answer.json().get("errors", [])]
                    self.refusals.append((answer.status_code, ",".join(codes)))
                    self.stopping.wait(REFUSAL_PAUSE)

        return refuse_huge

    def stall_storage(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=60) as client:
            while not self.stopping.is_set():
                began = time.monotonic()
                client.get(f"/v2/{STALLED}/tags/list")
                self.stalled.append(time.monotonic() - began)

    def trickle(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=10) as client:
            location = client.post("/v2/trickle/blobs/uploads/").headers["location"]
        path = location if location.startswith("/") else "/" + location.split("/", 3)[3]
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            head = (
                f"PATCH {path} HTTP/1.1\r\nHost: {self.server.host}\r\n"
                "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
            )
            sock.sendall(head.encode())
            while not self.stopping.wait(1.0):
                sock.sendall(b"t" * 1024)
                self.trickled += 1024


@contextlib.contextmanager
def idle_connections(server: Server, count: int) -> Iterator[list[socket.socket]]:
    """``count`` keep-alive connections, each after one answered ``GET /v2/``, left idle."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sockets.append(sock)
            sock.sendall(f"GET /v2/ HTTP/1.1\r\nHost: {server.host}\r\n\r\n".encode())
        for sock in sockets:
            assert sock.recv(65536).startswith(b"HTTP/1.1 200"), (
                "an idle connection's request was not answered"
            )
        yield sockets
    finally:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()


def measure(server: Server, seconds: float, digest: str) -> dict[str, list[float]]:
    """Latencies of ``GET /v2/`` and of a manifest GET by digest in another repository, alternating (by
    digest: one storage read, the revision's link, so on S3 the figure is the loop's and not moto's)."""
    samples: dict[str, list[float]] = {"GET /v2/": [], "manifest GET": []}
    paths = {"GET /v2/": "/v2/", "manifest GET": f"/v2/measured/manifests/{digest}"}
    with httpx.Client(base_url=server.url, timeout=30, headers={"Accept": OCI_MANIFEST}) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for kind, path in paths.items():
                began = time.perf_counter()
                answer = client.get(path)
                samples[kind].append(time.perf_counter() - began)
                assert answer.status_code == 200, (kind, answer.status_code, answer.text[:300])
            time.sleep(0.01)
    return samples


def test_quick_requests_stay_quick_beside_hostile_and_slow_ones(
    target: tuple[str, Server, DelayingProxy | None],
) -> None:
    configuration, server, proxy = target
    body = huge_manifest()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        digest = _push_image(client, "measured")
        assert (
            client.get(f"/v2/measured/manifests/{digest}", headers={"Accept": OCI_MANIFEST}).status_code
            == 200
        )
    loads = Loads(server)
    with idle_connections(server, IDLE_CONNECTIONS):
        loads.start(loads.refuse_huge(body))
        loads.start(loads.trickle)
        if proxy is not None:
            loads.start(loads.stall_storage)
        time.sleep(1.0)  # every load is under way
        try:
            samples = measure(server, WINDOW, digest)
        finally:
            loads.stop()
    figures = {kind: round(p99(values) * 1000, 1) for kind, values in samples.items()}
    print(f"\n{configuration}: p99 ms {figures}, refusals {len(loads.refusals)}")
    assert not loads.errors, loads.errors
    assert loads.refusals and all(r == (400, "MANIFEST_INVALID") for r in loads.refusals), loads.refusals[:5]
    assert loads.trickled >= 3 * 1024, "the trickling PATCH stopped"
    if proxy is not None:
        assert proxy.delayed and loads.stalled and max(loads.stalled) >= S3_DELAY, (
            proxy.delayed,
            loads.stalled,
        )
    for kind, values in samples.items():
        assert p99(values) < P99_LIMIT, (
            f"{kind}: p99 {p99(values) * 1000:.1f} ms over {len(values)} requests (limit {P99_LIMIT * 1000:.0f} ms)"
        )
