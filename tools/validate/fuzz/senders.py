"""How a generated case reaches the registry: over HTTP through the run's httpx client (its TLS and auth), or
in-process to an ASGI application through schemathesis' own transport."""

from __future__ import annotations

import json
from typing import Any, Protocol

import h11
import httpx

# The in-process app has no address; curl commands name the one `registry serve` listens on by default.
IN_PROCESS_URL = "http://127.0.0.1:5000"


class Unsendable(Exception):
    """The case cannot be put on the wire (a header HTTP cannot carry, a length that contradicts the body):
    a fault of the generated case, not of the registry."""


# h11's own error escapes httpx when a body contradicts its Content-Length.
CLIENT_SIDE: tuple[type[Exception], ...] = (
    httpx.LocalProtocolError,
    httpx.InvalidURL,
    h11.LocalProtocolError,
    UnicodeEncodeError,
)


def without_length(case: Any) -> Any:
    """The transport sets Content-Length from the body; a generated one would contradict it."""
    if case.headers:
        for name in [n for n in case.headers if n.lower() == "content-length"]:
            del case.headers[name]
    return case


class Sender(Protocol):
    base_url: str

    def send(self, case: Any) -> Any:
        """Send ``case``; return the response (any type schemathesis validates)."""


class HttpSender:
    def __init__(self, client: httpx.Client, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    def send(self, case: Any) -> httpx.Response:
        data = without_length(case).as_transport_kwargs(base_url=self.base_url)
        body: Any = data.get("data")
        if "json" in data:
            body = json.dumps(data["json"]).encode()
        headers = {k: str(v) for k, v in (data.get("headers") or {}).items()}
        try:
            return self.client.request(
                data["method"], data["url"], headers=headers, params=data.get("params") or None, content=body
            )
        except CLIENT_SIDE as exc:
            raise Unsendable(f"{type(exc).__name__}: {exc}") from exc


class AsgiSender:
    def __init__(self, app: Any, base_url: str = IN_PROCESS_URL) -> None:
        self.app = app
        self.base_url = base_url

    def send(self, case: Any) -> Any:
        import requests

        try:
            return without_length(case).call(app=self.app)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeEncodeError) as exc:
            raise Unsendable(f"{type(exc).__name__}: {exc}") from exc


def header_of(response: Any, name: str) -> str | None:
    """A response header, whatever the response type (schemathesis keeps lists under lowercase names)."""
    value = response.headers.get(name.lower())
    if value is None:
        value = response.headers.get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)
