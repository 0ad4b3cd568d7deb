"""The UI's way into the registry: the registry's own HTTP API, called in process with the user's credentials.

Every page reads through ``/v2/`` — the same authorization middleware, services and pagination as any
client — over ``httpx.ASGITransport`` (no socket, no second route table). The browser's ``Authorization:
Basic`` header becomes a ``registry_client.RegistryAuth`` credential: with ``auth.htpasswd`` it is sent as
is; with ``auth.token`` the Bearer challenge sends it to the configured realm for a token with the scopes
the request needs, exactly as ``docker login`` would. A realm on another host is reached over the network;
one on this registry (``autoredirect``) in process. Clients are kept per credential (a small LRU), so a
token is fetched once per scope, not once per page.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from http.cookiejar import CookieJar

import httpx
from registry_client.auth import RegistryAuth
from registry_client.credentials import Credential
from starlette.types import ASGIApp

__all__ = ["INTERNAL_HOST", "Upstream", "credential_of"]

INTERNAL_HOST = "registry.ui.internal"
CLIENTS_KEPT = 64
TIMEOUT = 30.0


def _not_in_process(record: logging.LogRecord) -> bool:
    return INTERNAL_HOST not in record.getMessage()


# httpx logs every request at INFO: the access log already has the page, not its in-process API calls.
logging.getLogger("httpx").addFilter(_not_in_process)


def credential_of(authorization: str) -> Credential | None:
    """The credential of a ``Basic`` Authorization header, else None."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, colon, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError:
        return None
    return Credential(username=username, password=password) if colon else None


class _AsyncAuth(RegistryAuth):
    """``RegistryAuth``'s flow (written for sync clients) driven by an async client: each response is read
    before the flow sees it, so its token parsing never reads from a stream."""

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = self.sync_auth_flow(request)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            await response.aread()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return


class _NoCookies(CookieJar):
    """The registry sets no cookies; not parsing for them is a fifth of an in-process request's cost."""

    def extract_cookies(self, response: object, request: object) -> None:
        return None

    def add_cookie_header(self, request: object) -> None:
        return None


class _Routing(httpx.AsyncBaseTransport):
    """Requests for the registry itself go to the ASGI app, any other host (a token realm) to the network."""

    def __init__(self, app: ASGIApp) -> None:
        self.local = httpx.ASGITransport(app=app)
        # Made on first use: building it loads the system's CA certificates (~0.2 s of CPU in every worker's
        # start, measured with py-spy), and only token auth ever reaches another host.
        self.remote: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == INTERNAL_HOST:
            return await self.local.handle_async_request(request)
        if self.remote is None:
            self.remote = httpx.AsyncHTTPTransport()
        return await self.remote.handle_async_request(request)

    async def aclose(self) -> None:
        if self.remote is not None:
            await self.remote.aclose()


@dataclass
class Upstream:
    """In-process API clients, one per credential seen recently."""

    app: ASGIApp

    def __post_init__(self) -> None:
        self._transport = _Routing(self.app)
        self._clients: OrderedDict[str, httpx.AsyncClient] = OrderedDict()

    def client(self, authorization: str) -> httpx.AsyncClient:
        """The client for a browser request carrying this ``Authorization`` header ("" when none)."""
        key = hashlib.sha256(authorization.encode()).hexdigest()
        found = self._clients.get(key)
        if found is not None:
            self._clients.move_to_end(key)
            return found
        credential = credential_of(authorization)
        client = httpx.AsyncClient(
            transport=self._transport,
            base_url=f"http://{INTERNAL_HOST}",
            auth=_AsyncAuth(credential),
            timeout=TIMEOUT,
            cookies=_NoCookies(),
        )
        self._clients[key] = client
        while len(self._clients) > CLIENTS_KEPT:
            self._clients.popitem(last=False)  # not closed: the shared transport stays open
        return client
