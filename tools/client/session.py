"""The HTTP session every API module shares: one ``httpx.Client``, the base URL, errors raised as typed exceptions.

``request`` returns a response whose status is one the caller expects, or raises the
:class:`~registry_client.errors.RegistryError` subclass its envelope names; transport failures left after the
retry transport gave up become :class:`~registry_client.errors.ConnectionFailed`. ``stream`` does the same
for responses whose body is read piecewise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Container, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
from registry_client.errors import ConnectionFailed, RegistryError

__all__ = ["Session", "with_query"]


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` appended to its query, byte for byte as it was (httpx's ``params=`` replaces it).

    distribution signs its upload state into the Location's query (``_state``): it must come back unchanged.
    """
    base, hash_, fragment = url.partition("#")
    joined = base + ("&" if "?" in base else "?") + urlencode(params)
    return joined + hash_ + fragment


class Session:
    """A base URL and the client that reaches it."""

    def __init__(self, base_url: str, client: httpx.Client) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client

    def url(self, path_or_url: str) -> str:
        """An absolute URL for a path, or for a Location header (absolute, or relative to the base)."""
        return str(httpx.URL(self.base_url + "/").join(path_or_url))

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        expect: Container[int] = (200,),
        not_found: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        try:
            response = self.client.request(method, self.url(path_or_url), **kwargs)
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"{method} {self.url(path_or_url)}: {_describe(exc)}") from exc
        if response.status_code not in expect:
            raise RegistryError.from_response(response, not_found=not_found)
        return response

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path_or_url: str,
        *,
        expect: Container[int] = (200,),
        not_found: str | None = None,
        **kwargs: Any,
    ) -> Iterator[httpx.Response]:
        """Like ``request`` with an unread body; transport errors *while reading* propagate as httpx's."""
        try:
            cm = self.client.stream(method, self.url(path_or_url), **kwargs)
            response = cm.__enter__()
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"{method} {self.url(path_or_url)}: {_describe(exc)}") from exc
        try:
            if response.status_code not in expect:
                response.read()
                raise RegistryError.from_response(response, not_found=not_found)
            yield response
        finally:
            cm.__exit__(None, None, None)


def _describe(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "…"
