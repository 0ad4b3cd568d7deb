"""Observability with real processes: the health gate (503 UNAVAILABLE and back), the debug listener's
``/debug/health`` and Prometheus ``/metrics`` merged across workers, request ids in JSON logs."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from testkit.processes import Server, ServerFailed, Spawner, free_port

SERVERS = [("granian", 1), ("granian", 2), ("uvicorn", 1), ("uvicorn", 2)]
INTERVAL = "300ms"


@contextmanager
def unwritable(directory: Path) -> Iterator[None]:
    """``directory`` refuses new entries for the block: immutable for root (which ignores modes), read-only else."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        assert chattr, "chattr (e2fsprogs) is needed to make a directory unwritable for root"
        subprocess.run([chattr, "+i", str(directory)], check=True)
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(directory)], check=True)
    else:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout}s")


def start(spawn: Spawner, server: str, workers: int, tmp_path: Path) -> tuple[Server, str]:
    """Our server with the debug listener and two health checks; another debug port when the one picked
    was taken meanwhile (free_port only finds a port that was free)."""
    for attempt in range(3):
        debug_port = free_port()
        config = {
            "log": {"formatter": "json"},
            "http": {"debug": {"addr": f"127.0.0.1:{debug_port}", "prometheus": {"enabled": True}}},
            "health": {
                "storagedriver": {"enabled": True, "interval": INTERVAL, "threshold": 2},
                "file": [{"file": str(tmp_path / "out-of-rotation"), "interval": INTERVAL}],
            },
        }
        name = f"{server}-{workers}-{attempt}"
        try:
            return spawn.ours(
                name, overrides=config, server=server, workers=workers
            ), f"http://127.0.0.1:{debug_port}"
        except ServerFailed as exc:
            if "http.debug.addr" not in str(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def all_answer(client: httpx.Client, status: int, tries: int = 8) -> bool:
    """Every one of a few requests (landing on any worker) answers ``status``."""
    return all(client.get("/v2/").status_code == status for _ in range(tries))


@pytest.mark.parametrize(("server", "workers"), SERVERS)
def test_health_gate_and_metrics(spawn: Spawner, tmp_path: Path, server: str, workers: int) -> None:
    started, debug = start(spawn, server, workers, tmp_path)
    with started.client() as client, httpx.Client(base_url=debug, timeout=5) as dbg:
        assert dbg.get("/debug/health").json() == {}
        assert client.get("/metrics").status_code == 404  # nothing of the debug listener on the main port
        assert client.get("/debug/health").status_code == 404

        # Metrics: counters match the requests made, whichever worker answered them.
        count = 12
        for i in range(count):
            assert client.get(f"/v2/metrics/repo/manifests/t{i}").status_code == 404

        def scrape() -> dict[str, Metric]:
            return {f.name: f for f in text_string_to_metric_families(dbg.get("/metrics").text)}

        def counted() -> list[float]:
            family = scrape().get("registry_http_requests")
            samples = family.samples if family is not None else []
            wanted = {"code": "404", "handler": "get_manifest", "method": "GET"}
            return [s.value for s in samples if s.labels == wanted and s.name.endswith("_total")]

        wait_for(lambda: counted() == [count], 5, f"{count} requests counted")  # written once a second
        families = scrape()
        assert all("metrics/repo" not in json.dumps(s.labels) for f in families.values() for s in f.samples)
        durations = families["registry_http_request_duration_seconds"].samples
        assert any(s.name.endswith("_count") and s.value == count for s in durations), durations
        actions = {s.labels["action"] for s in families["registry_storage_action_seconds"].samples}
        assert {"put_content", "delete"} <= actions  # the health probe's writes, at least

        # The "file exists -> out of rotation" switch, and back.
        switch = tmp_path / "out-of-rotation"
        switch.touch()
        wait_for(lambda: all_answer(client, 503), 5, "503 after the switch file appeared")
        r = client.get("/v2/")
        assert r.json()["errors"][0]["code"] == "UNAVAILABLE"
        wait_for(lambda: dbg.get("/debug/health").status_code == 503, 5, "/debug/health failing")
        failing = dbg.get("/debug/health").json()
        assert failing[str(switch)]["error"] and failing[str(switch)]["since"], failing
        switch.unlink()
        wait_for(lambda: all_answer(client, 200), 5, "200 after the switch file went")

        # Storage made unwritable: 503 within the threshold, 200 again once repaired.
        with unwritable(started.root):
            took = wait_for(lambda: all_answer(client, 503), 5, "503 with storage unwritable")
            assert took < 3.0
            wait_for(lambda: "storagedriver_filesystem" in dbg.get("/debug/health").json(), 5, "debug health")
        wait_for(lambda: all_answer(client, 200), 5, "200 after storage was repaired")
        wait_for(lambda: dbg.get("/debug/health").json() == {}, 5, "/debug/health passing again")

        # Request ids: an incoming one is kept, else one is made; both are on the access log's JSON line.
        assert (
            client.get("/v2/", headers={"X-Request-Id": "probe-1234"}).headers["x-request-id"] == "probe-1234"
        )
        generated = client.get("/v2/logs/none/manifests/latest").headers["x-request-id"]
        assert len(generated) == 32
    started.stop()
    parsed = [json.loads(line) for line in started.log_text(tail=None).splitlines()]  # every line is JSON
    access = {line["http.request.id"]: line for line in parsed if "http.response.status" in line}
    assert access["probe-1234"]["http.request.uri"] == "/v2/", access
    assert access[generated]["http.response.status"] == 404, access
    assert access[generated]["http.response.duration"] >= 0, access


class Receiver:
    """An OTLP/HTTP trace receiver on loopback, in this process: decodes every export it is sent."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.spans: list[tuple[str, str, str]] = []  # (name, trace id, parent span id) per span
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource in request.resource_spans:
                    for scoped in resource.scope_spans:
                        for span in scoped.spans:
                            owner.spans.append((span.name, span.trace_id.hex(), span.parent_span_id.hex()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/traces"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Collector:
    """Any POST on loopback, in this process: its path and (decompressed) body, for the reporters."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                owner.posts.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.port = self.httpd.server_address[1]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_traces_reach_an_otlp_receiver_and_errors_bugsnag_and_sentry(spawn: Spawner) -> None:
    """One server: the spans of a push (an incoming trace continued), then a forced 500 reported once
    to Bugsnag and once to Sentry with its request id."""
    receiver, bugsnag, sentry = Receiver(), Collector(), Collector()
    env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "SENTRY_DSN": f"http://publickey@127.0.0.1:{sentry.port}/1",
    }
    reporting = {
        "bugsnag": {
            "apikey": "0123456789abcdef0123456789abcdef",
            "releasestage": "test",
            "endpoint": f"http://127.0.0.1:{bugsnag.port}/",
        }
    }
    try:
        started = spawn.ours("observed", overrides={"reporting": reporting}, env=env)
        with started.client() as client:
            traced_push(client, receiver)
            reported_error(client, started, bugsnag, sentry)
    finally:
        receiver.close()
        bugsnag.close()
        sentry.close()


def traced_push(client: httpx.Client, receiver: Receiver) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    blob = b"traced layer"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    r = client.post(
        "/v2/traced/repo/blobs/uploads/",
        params={"digest": digest},
        content=blob,
        headers={
            "Content-Type": "application/octet-stream",
            "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
        },
    )
    assert r.status_code == 201, r.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest,
                "size": 12,
            },
            "layers": [],
        }
    )
    r = client.put(
        "/v2/traced/repo/manifests/v1",
        content=manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 201, r.text

    def names() -> set[str]:
        return {name for name, _, _ in receiver.spans}

    wait_for(lambda: {"POST start_upload", "PUT put_manifest"} <= names(), 10, "the push's request spans")
    continued = [s for s in receiver.spans if s[1] == trace_id]
    assert any(name == "POST start_upload" for name, _, _ in continued), receiver.spans
    assert any(name.startswith("storage.") for name, _, _ in continued), receiver.spans
    assert not any("traced/repo" in name for name in names())


def reported_error(client: httpx.Client, started: Server, bugsnag: Collector, sentry: Collector) -> None:
    assert client.post("/v2/reported/first/blobs/uploads/").status_code == 202
    with unwritable(started.root / "docker" / "registry" / "v2" / "repositories"):
        r = client.post("/v2/unreported/second/blobs/uploads/")  # a new repository cannot be made
    assert r.status_code == 500, r.text
    rid = r.json()["errors"][0]["detail"]["request_id"]
    assert rid == r.headers["x-request-id"]
    wait_for(lambda: any(rid.encode() in body for _, body in bugsnag.posts), 10, "the Bugsnag report")
    wait_for(lambda: any(rid.encode() in body for _, body in sentry.posts), 10, "the Sentry event")
    report = next(json.loads(body) for _, body in bugsnag.posts if rid.encode() in body)
    assert report["events"][0]["metaData"]["request"]["id"] == rid
    assert report["events"][0]["releaseStage"] == "test"
    assert report["events"][0]["severity"] == "error"
    assert len([p for p, body in sentry.posts if rid.encode() in body]) == 1
    assert all(path.startswith("/api/1/") for path, _ in sentry.posts)
