"""An ASGI application served by uvicorn in a thread on a free loopback port, for tests that need a real URL.

with serve(app) as url:
    httpx.get(url + "/v2/")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from starlette.types import ASGIApp

from testkit.processes import free_port

READY_TIMEOUT = 15.0


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` (lifespan on) until the block ends; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, server, thread)
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


def _wait(url: str, server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError(f"uvicorn on {url} exited before answering")
        if server.started:
            try:
                httpx.get(url + "/v2/", timeout=2.0)
                return
            except httpx.TransportError:
                pass
        time.sleep(0.02)
    raise RuntimeError(f"uvicorn on {url} did not answer within {READY_TIMEOUT}s")
