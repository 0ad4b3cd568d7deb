"""Links the pages write: paths under the root path, never absolute URLs."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request

__all__ = ["path_for"]


def path_for(request: Request, name: str, /, **params: Any) -> URL:
    """The path (no scheme, no host) of route ``name``, under the root path (``http.prefix``): links stay
    right behind a proxy that terminates TLS or rewrites the host."""
    path = request.app.url_path_for(name, **params)
    return URL(path=str(request.scope.get("root_path", "")) + str(path))
