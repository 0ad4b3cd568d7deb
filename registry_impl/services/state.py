"""What the services read of the application state (``registry_impl.api.context.AppState`` provides it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from registry_impl.services.offload import Offload
from registry_impl.storage.registry import Registry

if TYPE_CHECKING:
    from registry_impl.notifications import Notifier
    from registry_impl.proxy.cache import PullThroughCache

__all__ = ["State"]


class State(Protocol):
    """The registry, where its work runs, and the settings the services apply."""

    @property
    def registry(self) -> Registry: ...

    @property
    def offload(self) -> Offload: ...

    @property
    def secret(self) -> bytes:
        """``http.secret``: signs upload Locations."""

    @property
    def max_tags(self) -> int:
        """``tags.maxtags``: the longest tag-list page; 0 for no maximum."""

    @property
    def max_catalog(self) -> int: ...

    @property
    def redirect_blobs(self) -> bool: ...

    @property
    def access(self) -> object | None:
        """The configured ``auth`` scheme; None: no access control (a mount may then search every repository)."""

    @property
    def proxy(self) -> PullThroughCache | None:
        """``proxy``: the pull-through cache (``registry_impl.proxy``); None when no repository is proxied."""

    @property
    def notifier(self) -> Notifier | None:
        """``notifications``: where the services write their events; None when no endpoint is enabled."""
