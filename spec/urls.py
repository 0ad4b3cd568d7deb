"""Build request paths from ROUTES; the server's Location headers and the client share it."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlencode

from .routes import find_route


def path_for(route_name: str, **params: str) -> str:
    """The path of ``route_name`` with its path parameters filled in (``name`` keeps its slashes)."""
    template = find_route(route_name).path
    for key, value in params.items():
        placeholder = "{" + key + "}"
        if placeholder not in template:
            raise KeyError(f"route {route_name} has no path parameter {key}")
        template = template.replace(placeholder, quote(value, safe="/:" if key == "name" else ":"))
    if "{" in template:
        raise KeyError(f"route {route_name} needs more parameters: {template}")
    return template


def url_for(route_name: str, query: dict[str, str | int] | None = None, **params: str) -> str:
    """``path_for`` plus an encoded query string."""
    path = path_for(route_name, **params)
    if query:
        path += "?" + urlencode(query)
    return path


def base() -> str:
    return path_for("base")


def catalog(n: int | None = None, last: str | None = None) -> str:
    return url_for("catalog", _page(n, last))


def tags(name: str, n: int | None = None, last: str | None = None) -> str:
    return url_for("tags", _page(n, last), name=name)


def manifest(name: str, reference: str, tags: Sequence[str] = ()) -> str:
    """A manifest's path; ``tags`` become repeated ``tag`` parameters (a PUT by digest that tags it too)."""
    path = path_for("manifest", name=name, reference=reference)
    if tags:
        path += "?" + urlencode([("tag", tag) for tag in tags])
    return path


def blob(name: str, digest: str) -> str:
    return path_for("blob", name=name, digest=digest)


def upload_start(name: str) -> str:
    return path_for("blob-upload", name=name)


def upload(name: str, uuid: str) -> str:
    return path_for("blob-upload-chunk", name=name, uuid=uuid)


def referrers(name: str, digest: str) -> str:
    return path_for("referrers", name=name, digest=digest)


def _page(n: int | None, last: str | None) -> dict[str, str | int]:
    query: dict[str, str | int] = {}
    if n is not None:
        query["n"] = n
    if last is not None:
        query["last"] = last
    return query
