"""SIGHUP on a real server: everything the workers apply is reloaded without refusing a request, or
nothing is (a configuration that would not start, a key only a restart applies) — see registry_impl.reload."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
import yaml

from tests.testkit.processes import Server, Spawner

pytestmark = pytest.mark.interop

RELOAD_TIMEOUT = 30.0
RETRIES = 2


def _children(pid: int) -> set[int]:
    """The worker processes of the supervisor ``pid`` (not multiprocessing's resource tracker)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        found = {int(p) for p in f.read().split()}
    workers = set()
    for child in found:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if b"resource_tracker" not in f.read():
                    workers.add(child)
        except FileNotFoundError:
            pass
    return workers


def _rewrite(server: Server, **changes: object) -> None:
    assert server.config is not None
    config = yaml.safe_load(server.config.read_text())
    for dotted, value in changes.items():
        node = config
        *parents, last = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    server.config.write_text(yaml.safe_dump(config))


def _marker(server: Server) -> str:
    return httpx.get(server.url + "/v2/", timeout=5).headers.get("x-reload", "")


def _wait_for_log(server: Server, text: str, after: int) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = server.log.read_text(errors="replace")[after:]
        if text in new:
            return new
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged after SIGHUP:\n{server.log_text()}")


class Prober(threading.Thread):
    """GET /v2/ in a loop from two connections' worth of clients; every failure is kept."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.count = 0
        self.retried = 0

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                try:
                    r = self._get(client)
                    if r.status_code != 200:
                        self.failures.append(f"status {r.status_code}")
                except httpx.TransportError as exc:
                    self.failures.append(repr(exc))
                self.count += 1

    def _get(self, client: httpx.Client) -> httpx.Response:
        for _ in range(RETRIES):
            try:
                return client.get(self.url + "/v2/")
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # A retiring worker closed this connection unanswered as the request arrived: an idle
                # keep-alive one (Go's transport retries that; RFC 9112 section 9.3.1 allows it), or on
                # uvicorn one it had just accepted when it stopped listening. Nothing was processed.
                self.retried += 1
        return client.get(self.url + "/v2/")


@pytest.mark.parametrize(("server", "workers"), [("granian", 1), ("granian", 2), ("uvicorn", 2)])
def test_sighup_reloads_the_workers_without_refusing_a_request_or_reloads_nothing(
    spawn: Spawner, server: str, workers: int
) -> None:
    started = spawn.ours(
        overrides={"http": {"headers": {"X-Reload": ["one"]}}}, server=server, workers=workers
    )
    assert _marker(started) == "one"
    probers = [Prober(started.url) for _ in range(2)]
    for prober in probers:
        prober.start()
    try:
        # A change the workers apply: every worker ends up on it, no request refused on the way.
        old_workers = _children(started.pid)
        _rewrite(started, http__headers={"X-Reload": ["two"]})
        os.kill(started.pid, signal.SIGHUP)
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while not (_children(started.pid).isdisjoint(old_workers) and _marker(started) == "two"):
            assert time.monotonic() < deadline, (old_workers, _children(started.pid), _marker(started))
            time.sleep(0.1)
        assert {_marker(started) for _ in range(20)} == {"two"}  # no old worker left answering
        assert len(_children(started.pid)) == workers
    finally:
        for prober in probers:
            prober.stop.set()
            prober.join()
    assert sum(p.count for p in probers) > 50
    assert sum(p.retried for p in probers) <= 4 * workers  # only the connections of the retiring workers
    assert [f for p in probers for f in p.failures] == []

    # A configuration that would not start: nothing changes, one line says why.
    steady = _children(started.pid)
    offset = len(started.log.read_text(errors="replace"))
    _rewrite(started, http__headers={"X-Reload": ["three"]}, log__level="shouting")
    os.kill(started.pid, signal.SIGHUP)
    said = _wait_for_log(started, "SIGHUP: nothing reloaded", offset)
    assert "log.level" in said
    # A key only a restart applies, beside one the workers would: nothing of either.
    offset = len(started.log.read_text(errors="replace"))
    _rewrite(started, log__level="info", http__addr="127.0.0.1:1")
    os.kill(started.pid, signal.SIGHUP)
    said = _wait_for_log(started, "SIGHUP: nothing reloaded", offset)
    assert "http.addr" in said and "http.headers" not in said
    time.sleep(1.0)
    assert _children(started.pid) == steady
    assert _marker(started) == "two"
    assert started.running


def test_sighup_on_uvicorn_with_one_worker_changes_nothing_and_keeps_serving(spawn: Spawner) -> None:
    started = spawn.ours(overrides={"http": {"headers": {"X-Reload": ["one"]}}}, server="uvicorn")
    _rewrite(started, http__headers={"X-Reload": ["two"]})
    offset = len(started.log.read_text(errors="replace"))
    os.kill(started.pid, signal.SIGHUP)
    _wait_for_log(started, "SIGHUP: nothing reloaded", offset)
    assert started.running
    assert _marker(started) == "one"
