"""The web UI under ``/ui``: repositories, tags, manifests and referrers, and the API documentation.

Modules: ``upstream`` (the registry's own API, called in process with the user's credentials),
``content`` (what pages show, from API answers), ``links`` (paths under the root path), ``pages`` (the page handlers), ``docs`` (openapi.yaml,
Swagger UI, api.md as HTML), ``app`` (the routes, the security headers, ``with_ui``), ``mount`` (the
``/ui`` prefix check, and the UI built on its first request: what a server's worker mounts). Templates
and static files are package data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry_impl.ui.app import create_ui, with_ui

__all__ = ["create_ui", "with_ui"]


def __getattr__(name: str) -> Any:
    """``create_ui`` and ``with_ui`` load the UI when first asked for: importing ``registry_impl.ui.mount``
    (what a worker mounts) must not."""
    if name in __all__:
        from registry_impl.ui import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
