"""A synchronous httpx transport in front of ``httpx.ASGITransport``: sync clients against the in-process app.

The app runs on an event loop in a background thread; each request's body is read whole (so a client's streamed
upload arrives as one body) and each response is buffered. ``before`` lets a test fail or inspect a request
before it reaches the app.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx


class SyncASGITransport(httpx.BaseTransport):
    def __init__(self, app: Any, before: Callable[[httpx.Request], None] | None = None) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.before = before
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="asgi-bridge", daemon=True)
        self.thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.before is not None:
            self.before(request)
        body = request.read()
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "transfer-encoding"]
        forwarded = httpx.Request(request.method, request.url, headers=headers, content=body)

        async def send() -> tuple[int, list[tuple[str, str]], bytes]:
            response = await self.inner.handle_async_request(forwarded)
            content = await response.aread()
            return response.status_code, response.headers.multi_items(), content

        status, response_headers, content = asyncio.run_coroutine_threadsafe(send(), self.loop).result(60)
        return httpx.Response(
            status, headers=response_headers, stream=httpx.ByteStream(content), request=request
        )

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        self.loop.close()
