"""Per-request context: the Starlette request and the application state, reachable from handlers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.services.offload import Offload
from registry_impl.storage.registry import Registry

if TYPE_CHECKING:
    from registry_impl.auth.base import AccessController
    from registry_impl.notifications import Notifier
    from registry_impl.proxy.cache import PullThroughCache


@dataclass(frozen=True)
class PurgeSchedule:
    """``storage.maintenance.uploadpurging``: remove uploads older than ``age`` every ``interval``."""

    age: timedelta
    interval: timedelta
    dry_run: bool = False
    first_delay: float | None = None  # None: a random delay up to an hour, as distribution's purger waits


@dataclass(frozen=True)
class GCSchedule:
    """``storage.maintenance.gc``: online garbage collection every ``interval`` (see ``storage.onlinegc``)."""

    interval: timedelta
    grace: timedelta
    delete_untagged: bool = False
    dry_run: bool = False


@dataclass
class AppState:
    """Everything handlers need, built once at startup (no module-level singletons)."""

    registry: Registry
    secret: bytes
    max_tags: int = 0  # ``tags.maxtags``: 0 for no maximum
    max_catalog: int = 1000
    relative_urls: bool = False
    host: str = ""
    extra_headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    redirect_blobs: bool = True
    purge: PurgeSchedule | None = None
    gc: GCSchedule | None = None
    access: AccessController | None = None  # the configured ``auth`` scheme; None: no authentication
    proxy: PullThroughCache | None = None  # ``proxy``: the pull-through cache; None when nothing is proxied
    notifier: Notifier | None = None  # ``notifications``: None when no endpoint is enabled
    offload: Offload = field(init=False)  # where storage and CPU work runs (``registry_impl.services.offload``)

    def __post_init__(self) -> None:
        self.offload = Offload(self.registry.remote, synced=self.registry.driver.syncs_wait)


@dataclass(frozen=True)
class RequestContext:
    request: Request
    state: AppState


_current: ContextVar[RequestContext] = ContextVar("registry_request")
_routed: ContextVar[Scope | None] = ContextVar("registry_routed_scope", default=None)


@contextmanager
def use_context(ctx: RequestContext) -> Iterator[None]:
    """Make ``ctx`` the current request context for the duration of the block."""
    token = _current.set(ctx)
    try:
        yield
    finally:
        _current.reset(token)


def enter_context(ctx: RequestContext) -> Token[RequestContext]:
    """``use_context`` without the context manager (the hot path): pair with ``leave_context``."""
    return _current.set(ctx)


def leave_context(token: Token[RequestContext]) -> None:
    _current.reset(token)


def current() -> RequestContext:
    """The context of the request being handled."""
    return _current.get()


class ContextMiddleware:
    """Innermost middleware: stores the request (with the receive channel the handler must read)."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with use_context(RequestContext(Request(scope, receive), self.state)):
            await self.app(scope, receive, send)


def routed_scope() -> Scope | None:
    """The scope as routing left it (operation and path parameters), for rendering framework errors."""
    return _routed.get()


class RoutedScopeMiddleware:
    """Placed after routing: remembers the routed scope so a validation failure can be explained."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        _routed.set(scope)
        await self.app(scope, receive, send)
