"""The hostile battery against real servers (granian and uvicorn): no 5xx, no stall, envelopes, no stray files."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from urllib.parse import unquote, urlsplit

import pytest
from hostile.cases import ANY, BOUND, CASES, LIMITS, REFUSED, Case
from hostile.targets import Target, data_roots, fill, tree_snapshot
from registry_spec.router import ROUTER
from registry_spec.views import merged_responses
from testkit.rawhttp import RawResponse, exchange, request_bytes

API_VERSION = "docker-distribution-api-version"


def documented_statuses(request: bytes) -> set[int] | None:
    """The statuses the descriptor documents for the operation ``request``'s line names (HEAD: GET's where
    the route has no HEAD of its own); None when the line names no operation."""
    line = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    if len(line) != 3:
        return None
    method, target = line[0], line[1]
    found = ROUTER.match(unquote(urlsplit(target).path))
    if found is None:
        return None
    methods = {m.method: m for m in found[0].route.methods}
    chosen = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
    if chosen is None:
        return None
    return {int(view.status) for view in merged_responses(chosen)}


def check_answer(case: Case, answer: RawResponse, request: bytes = b"") -> None:
    """The rules every case obeys, then the case's own expectation."""
    assert not answer.timed_out, f"no answer and no close within {case.timeout}s: {answer.describe()}"
    assert answer.elapsed < case.timeout + 0.5, answer.describe()
    if answer.status is None:
        assert case.expect in (REFUSED, ANY), f"expected one of {sorted(case.expect)}, the connection closed"
        return
    assert answer.status < 500, answer.describe()
    if 400 <= answer.status < 500 and answer.header(API_VERSION) is not None:
        # The application (or our uvicorn protocol) answered: the registry envelope, whole.
        assert answer.complete, f"incomplete answer: {answer.describe()}"
        assert (answer.header("content-type") or "").startswith("application/json"), answer.describe()
        errors = json.loads(answer.body)["errors"]
        assert errors and all(set(e) == {"code", "message", "detail"} for e in errors), answer.describe()
        if case.codes:
            assert {e["code"] for e in errors} & case.codes, answer.describe()
        documented = documented_statuses(request)
        if documented is not None:  # what the spec (and a validator fuzzing from it) accepts
            assert answer.status in documented, f"not in the spec's {sorted(documented)}: {answer.describe()}"
    if case.expect == REFUSED:
        assert 400 <= answer.status < 500, f"expected a refusal: {answer.describe()}"
    elif case.expect != ANY:
        assert answer.status in case.expect, f"expected one of {sorted(case.expect)}: {answer.describe()}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(target: Target, case: Case) -> None:
    server = target.server(case.server)
    parts = [fill(part, target) for part in case.parts]
    answer = exchange(
        "127.0.0.1",
        server.port,
        parts,
        timeout=case.timeout,
        pause=case.pause,
        half_close=case.half_close,
        head=case.head,
    )
    check_answer(case, answer, b"".join(parts))
    assert server.running, f"{target.kind} exited:\n{server.log_text()}"


def test_idle_connections_are_bounded(target: Target) -> None:
    """More silent connections than ``maxconnections``: a real client is still served once the idle ones
    time out, and none of them outlives the idle timeout by much."""
    port = target.open.port
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(int(LIMITS["maxconnections"]) + 8)]
    try:
        started = time.monotonic()
        answer = exchange("127.0.0.1", port, request_bytes("GET", "/v2/"), timeout=BOUND)
        assert not answer.timed_out, answer.describe()
        if answer.status != 200:  # uvicorn closes connections over the limit at once; retry once freed
            time.sleep(1.2)
            answer = exchange("127.0.0.1", port, request_bytes("GET", "/v2/"), timeout=BOUND)
            assert answer.status == 200, answer.describe()
        assert time.monotonic() - started < 2 * BOUND
        for sock in silent:
            sock.settimeout(BOUND)
            with contextlib.suppress(ConnectionResetError):
                sock.recv(1024)  # b"" (closed) or a 408; a TimeoutError means it was held open
    finally:
        for sock in silent:
            sock.close()


def test_nothing_written_outside_the_storage_roots(target: Target) -> None:
    """Runs after the battery (same server kind): the tree outside both storage roots is unchanged."""
    now = tree_snapshot(target.root, data_roots(target.root))
    assert now == target.snapshot
    assert (target.root / "outside" / "sentinel").read_text() == "must stay as it is\n"
    for data in data_roots(target.root):
        stray = [p for p in data.rglob("*") if ".." in p.name or "\x00" in p.name or "passwd" in p.name]
        assert not stray, stray
