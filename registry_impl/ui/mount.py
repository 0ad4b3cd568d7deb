"""Where the UI answers: ``/ui`` and below; every other path (and the lifespan) is the registry's.

This module is all a worker loads for the UI until someone asks for a page: ``with_ui_on_demand`` builds
the UI (templates, Swagger UI, the API reference, the HTTP client for token realms: ``registry_impl.ui.app``)
on the first request under ``/ui``, so the UI, on by default, costs a worker no memory and no start-up time
while nobody uses it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.services.state import State

__all__ = ["PREFIX", "OnFirstRequest", "WithUI", "with_ui_on_demand"]

PREFIX = "/ui"


class WithUI:
    """``ui`` for paths under :data:`PREFIX`, ``registry`` for the rest; ``root_path`` is where a
    ``PathPrefix`` around it puts the registry (``http.prefix``), for the UI's links."""

    def __init__(self, registry: ASGIApp, ui: ASGIApp, root_path: str) -> None:
        self.registry = registry
        self.ui = ui
        self.root_path = root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            path: str = scope["path"]
            if len(path) == len(PREFIX) or path[len(PREFIX)] == "/":
                if self.root_path:
                    scope = {**scope, "root_path": scope.get("root_path", "") + self.root_path}
                await self.ui(scope, receive, send)
                return
        await self.registry(scope, receive, send)


class OnFirstRequest:
    """An ASGI app made by ``build`` when the first request reaches it."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build: Callable[[], ASGIApp] | None = build
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            assert self._build is not None
            self._app, self._build = self._build(), None  # no await in between: built once
        await self._app(scope, receive, send)


def with_ui_on_demand(
    registry: ASGIApp, *, delete_enabled: bool, root_path: str = "", state: State | None = None
) -> ASGIApp:
    """``registry_impl.ui.with_ui``, except that the UI is imported and built on its first request."""

    def build() -> ASGIApp:
        from registry_impl.ui.app import create_ui

        return create_ui(registry, delete_enabled=delete_enabled, state=state)

    return WithUI(registry, OnFirstRequest(build), root_path)
