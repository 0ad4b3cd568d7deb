"""The HTTP side of a run: one ``httpx.Client`` (TLS settings, registry auth) and the log of every exchange."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from registry_client.bodies import ACCEPT_ENCODING, BoundedBodies
from registry_client.errors import ClientError
from registry_toolkit.validate.auth import RegistryAuth
from registry_toolkit.validate.exchange import Exchange
from registry_toolkit.validate.options import Options
from registry_toolkit.validate.outcome import CheckFailed

USER_AGENT = "registry-validate (pydistribution)"
#: The most an answer's body may hold, as received and once its Content-Encoding is undone. What the checks fetch
#: is what they pushed (the largest, the chunked blob, is under twice ``checks.push.MAX_CHUNK``) and list pages:
#: a registry under test that sends more (a body without end, a compression bomb) fails that check instead of
#: filling the validator's memory.
MAX_ANSWER = 64 << 20


@dataclass(frozen=True)
class Reply:
    """A response with its recorded exchange."""

    response: httpx.Response
    exchange: Exchange

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def content(self) -> bytes:
        return self.response.content

    def header(self, name: str) -> str | None:
        value: str | None = self.response.headers.get(name)
        return value

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON fails the check."""
        try:
            return json.loads(self.response.content)
        except ValueError as exc:
            raise CheckFailed(f"the body is not JSON: {exc}", self.exchange) from exc

    @property
    def location(self) -> str:
        """The Location header, which must be there."""
        value = self.header("Location")
        if not value:
            raise CheckFailed(f"HTTP {self.status} without a Location header", self.exchange)
        return value


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` appended to its query, which it keeps (upload Locations carry state there)."""
    return url + ("&" if "?" in url else "?") + urlencode(params)


def tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


class Session:
    """Sends requests to the registry under test and records each exchange into ``log``."""

    def __init__(self, options: Options, transport: httpx.BaseTransport | None = None) -> None:
        self.options = options
        self.auth = RegistryAuth(
            options.username, options.password, host=httpx.URL(options.base_url).netloc.decode()
        )
        inner = transport or httpx.HTTPTransport(verify=tls_verify(options.verify))
        self.client = httpx.Client(
            base_url=options.base_url,
            timeout=options.timeout,
            auth=self.auth,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
            transport=BoundedBodies(inner, MAX_ANSWER),
        )
        self.log: list[Exchange] = []

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        follow_redirects: bool = False,
        chunked: bool = False,
    ) -> Reply:
        """Send one request (``chunked``: the body without a length, as a stream); a transport error (no
        answer) fails the current check."""
        body: bytes | Iterator[bytes] | None = iter([content]) if chunked and content is not None else content
        request = self.client.build_request(method, url, headers=headers, content=body)
        try:
            response = self.client.send(request, follow_redirects=follow_redirects)
        except httpx.TransportError as exc:
            exchange = Exchange.failed(request, exc)
            self.log.append(exchange)
            raise CheckFailed(f"no complete answer to {method} {request.url}: {exc}", exchange) from exc
        except ClientError as exc:  # a body past MAX_ANSWER, or in a coding that cannot be undone
            exchange = Exchange.failed(request, exc)
            self.log.append(exchange)
            raise CheckFailed(f"unreadable answer to {method} {request.url}: {exc}", exchange) from exc
        exchange = Exchange.of(response, content)
        self.log.append(exchange)
        return Reply(response, exchange)
