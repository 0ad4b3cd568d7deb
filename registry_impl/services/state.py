"""What the services read of the application state (``registry_impl.api.context.AppState`` provides it)."""

from __future__ import annotations

from typing import Protocol

from registry_impl.services.offload import Offload
from registry_impl.storage.registry import Registry

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
    def max_tags(self) -> int: ...

    @property
    def max_catalog(self) -> int: ...

    @property
    def redirect_blobs(self) -> bool: ...

    @property
    def access(self) -> object | None:
        """The configured ``auth`` scheme; None: no access control (a mount may then search every repository)."""
