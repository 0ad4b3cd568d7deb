"""Requests from the first moment a server listens: a worker answers its fast path while it still builds its
framework in the background (``registry_impl.api.stack``), and requests only the framework serves wait for
it — answered right, never 503 or 500 — on granian and uvicorn, with one worker and with two.

Clients start before the server: each asks again and again from before the spawn until it has its answers,
so the first ones reach a worker whose framework is not built yet.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from testkit.processes import free_port, ours_command, start_ours

CONFIGURATIONS = {
    "granian-1": ("granian", 1),
    "granian-2": ("granian", 2),
    "uvicorn-1": ("uvicorn", 1),
    "uvicorn-2": ("uvicorn", 2),
}
CLIENTS = 8
ANSWERS = 4  # per client


@pytest.mark.timeout(120)
@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_requests_at_startup_are_answered_right(configuration: str, tmp_path: Path) -> None:
    if ours_command() is None:
        pytest.fail("the `registry` console script is not installed (pip install -e .)")
    kind, workers = CONFIGURATIONS[configuration]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    answers: list[
        tuple[str, int, str, float]
    ] = []  # (request, status, code, seconds after the spawn: for a failure)
    failures: list[str] = []
    lock = threading.Lock()
    go = threading.Event()

    def client(index: int) -> None:
        upload = f"/v2/startup/r{index}/blobs/uploads/{uuid.uuid4()}"
        requests = [
            ("GET", upload),  # upload_status and cancel_upload: the framework's
            ("DELETE", upload),
            ("GET", "/v2/"),  # the fast path's
            ("GET", f"/v2/startup/r{index}/tags/list"),
        ]
        with httpx.Client(base_url=base, timeout=30) as http:
            go.wait()
            got = 0
            deadline = time.monotonic() + 60
            while got < ANSWERS * len(requests) and time.monotonic() < deadline:
                method, path = requests[(index + got) % len(requests)]  # each client starts elsewhere
                try:
                    answer = http.request(method, path)
                except httpx.TransportError:
                    if got:  # listening already: a dropped connection is a failure
                        with lock:
                            failures.append(f"{method} {path}: connection lost")
                    time.sleep(0.002)
                    continue
                code = answer.json()["errors"][0]["code"] if answer.status_code >= 400 else ""
                with lock:
                    answers.append((f"{method} {path}", answer.status_code, code, time.monotonic() - spawned))
                got += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    spawned = time.monotonic()
    go.set()  # the clients ask from before the server exists
    server = start_ours(tmp_path, server=kind, workers=workers, port=port)
    try:
        for thread in threads:
            thread.join(60)
    finally:
        server.stop()
    assert not failures
    assert len(answers) == CLIENTS * ANSWERS * 4

    def expected(request: str) -> tuple[int, str]:
        if request == "GET /v2/":
            return 200, ""
        return (404, "NAME_UNKNOWN") if request.endswith("/tags/list") else (404, "BLOB_UPLOAD_UNKNOWN")

    wrong = [
        (request, status, code, at)
        for request, status, code, at in answers
        if (status, code) != expected(request)
    ]
    assert not wrong, wrong[:10]
