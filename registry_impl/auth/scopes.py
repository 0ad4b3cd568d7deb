"""Request → the access records it needs, as distribution's ``authorized()`` derives them.

* a route with a repository name: GET/HEAD → ``pull``; POST/PUT/PATCH → ``pull`` and ``push``;
  DELETE → ``delete``; a non-empty ``from`` query parameter (a cross-repository mount) also needs
  ``pull`` on it;
* ``/v2/_catalog`` → ``registry:catalog:*``;
* ``/v2/`` and any other path under ``/v2/`` → nothing beyond authentication.

Routes are matched by the one route table (``registry_spec.router``), as the framework's router
matches them, so the name found here is the one the handler will see. The query is the one ``registry_impl.api.query`` parsed for the
handler too (a repeated ``from`` never gets this far), so the ``from`` checked here is the one mounted
from.
"""

from __future__ import annotations

from collections.abc import Mapping

from registry_spec.router import ROUTER

from registry_impl.auth.base import Access, Resource

__all__ = ["CATALOG", "catalog_access", "repository_access", "required_access", "route_of"]

CATALOG = Resource("registry", "catalog")
PULL = ("pull",)
PUSH = ("pull", "push")
DELETE = ("delete",)
ACTIONS: dict[str, tuple[str, ...]] = {
    "GET": PULL,
    "HEAD": PULL,
    "POST": PUSH,
    "PUT": PUSH,
    "PATCH": PUSH,
    "DELETE": DELETE,
}


def route_of(path: str) -> tuple[str, str | None] | None:
    """``(route, repository name)`` of the first route whose template matches ``path`` (name None if it has none).

    An empty name (``/v2//manifests/x``) is still a name: such a request needs access to repository
    "", which no one is granted, rather than passing as a base-route request.
    """
    routed = ROUTER.match(path)
    if routed is None:
        return None
    compiled, params = routed
    return compiled.route.name, params.get("name")


def repository_access(method: str, repository: str) -> list[Access]:
    """What ``method`` needs on ``repository`` (nothing for a method distribution does not list)."""
    resource = Resource("repository", repository)
    return [Access(resource, action) for action in ACTIONS.get(method.upper(), ())]


def catalog_access() -> list[Access]:
    return [Access(CATALOG, "*")]


def required_access(method: str, path: str, query: Mapping[str, str]) -> list[Access]:
    """The access records a request needs, in the order distribution lists them (``query``: ``query_of``)."""
    routed = route_of(path)
    if routed is None:
        return []
    route, repository = routed
    if repository is None:
        return catalog_access() if route == "catalog" else []
    access = repository_access(method, repository)
    source = query.get("from", "")
    if source:
        access += repository_access("GET", source)
    return access
