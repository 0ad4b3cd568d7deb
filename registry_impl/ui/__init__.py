"""The web UI under ``/ui``: repositories, tags, manifests and referrers, and the API documentation.

Modules: ``upstream`` (the registry's own API, called in process with the user's credentials),
``content`` (what pages show, from API answers), ``links`` (paths under the root path), ``pages`` (the page handlers), ``docs`` (openapi.yaml,
Swagger UI, api.md as HTML), ``app`` (the routes, the security headers, ``with_ui``). Templates and
static files are package data.
"""

from __future__ import annotations

from registry_impl.ui.app import create_ui, with_ui

__all__ = ["create_ui", "with_ui"]
