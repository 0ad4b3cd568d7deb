"""The registry application around its framework, and a framework built while the worker already serves.

``compose`` puts what every request passes through (the version path, the response headers,
authentication, the fast path) around the framework app (connexion, ``registry_impl.api.app``), which
serves the operations the fast path does not. A test app is composed around a framework built at once.

A server worker composes it around ``InBackground``: importing connexion (and with it jsonschema,
werkzeug and Starlette's routing) and building the framework app was ~250 ms of a ~0.5 s cold start,
and the fast path — the version check, manifest and blob reads, uploads, manifest PUTs, tag and
catalog lists — needs none of it. The worker answers those as soon as it listens; the framework is
imported and built in a thread from the moment the server starts (its lifespan, or the first request
when there is none), and a request that needs it before it is ready waits for it. The framework's own
lifespan (upload purging, online GC, the notification senders) starts once it is built.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from registry_spec import errors as E
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry_impl.api.authorization import AuthMiddleware
from registry_impl.api.context import AppState
from registry_impl.api.errors import envelope
from registry_impl.api.fastpath import FastPath
from registry_impl.api.middleware import BareVersionPath, HeadersMiddleware

__all__ = ["InBackground", "compose"]

log = logging.getLogger("registry.api")


def compose(state: AppState, framework: ASGIApp, *, fast_path: bool = True) -> ASGIApp:
    """``framework`` behind the fast path (when on), authentication (for every request, the fast path's
    too), the registry's response headers and the bare ``/v2`` path."""
    inner = FastPath(framework, state) if fast_path else framework
    return BareVersionPath(HeadersMiddleware(AuthMiddleware(inner, state), extra=state.extra_headers))


class InBackground:
    """The ASGI app ``build`` returns, built in a thread of its own once the server starts.

    A lifespan startup is answered at once (the build begins); the built app's own lifespan is then run
    to its startup, and at shutdown to its end. A build that fails is logged, and every request that
    needs the app is answered 503 ``UNAVAILABLE``.
    """

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._built: asyncio.Future[ASGIApp] | None = None

    def start(self) -> asyncio.Future[ASGIApp]:
        """Begin the build (once); the future of the built app."""
        if self._built is None:
            loop = asyncio.get_running_loop()
            built: asyncio.Future[ASGIApp] = loop.create_future()
            self._built = built

            def run() -> None:
                try:
                    app = self._build()
                except BaseException as exc:  # handed to the requests waiting for it
                    loop.call_soon_threadsafe(_settle, built, None, exc)
                    return
                loop.call_soon_threadsafe(_settle, built, app, None)

            threading.Thread(target=run, name="framework-build", daemon=True).start()
        return self._built

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        try:
            app = await asyncio.shield(self.start())
        except Exception:  # logged once, where the build failed
            if scope["type"] == "http":
                await envelope([(E.UNAVAILABLE, "the request framework failed to load", None)], 503)(
                    scope, receive, send
                )
            return
        await app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        built = self.start()
        await send({"type": "lifespan.startup.complete"})
        stop = asyncio.Event()
        inner = asyncio.create_task(self._inner_lifespan(scope, built, stop))
        while (await receive())["type"] != "lifespan.shutdown":
            pass
        stop.set()
        await inner
        await send({"type": "lifespan.shutdown.complete"})

    async def _inner_lifespan(
        self, scope: Scope, built: asyncio.Future[ASGIApp], stop: asyncio.Event
    ) -> None:
        """The built app's lifespan: started once it is built, ended when ``stop`` is set."""
        try:
            app = await asyncio.shield(built)
        except Exception:
            return
        startup_sent = False

        async def inner_receive() -> Message:
            nonlocal startup_sent
            if not startup_sent:
                startup_sent = True
                return {"type": "lifespan.startup"}
            await stop.wait()
            return {"type": "lifespan.shutdown"}

        async def inner_send(message: Message) -> None:
            if message["type"].endswith(".failed"):
                log.error("request framework %s: %s", message["type"], message.get("message", ""))

        try:
            await app(scope, inner_receive, inner_send)
        except Exception:
            log.exception("request framework lifespan failed")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
        return
    log.error("the request framework failed to load: requests it serves are answered 503", exc_info=error)
    future.set_exception(error)
    future.exception()  # retrieved: asyncio need not report it again
