"""How a generated case reaches the registry: over HTTP through the run's httpx client (its TLS and auth), or
in-process to an ASGI application through schemathesis' own transport."""

from __future__ import annotations

import json
from typing import Any, Protocol

import httpx

# The in-process app has no address; curl commands name the one `registry serve` listens on by default.
IN_PROCESS_URL = "http://127.0.0.1:5000"


class Sender(Protocol):
    base_url: str

    def send(self, case: Any) -> Any:
        """Send ``case``; return the response (any type schemathesis validates)."""


class HttpSender:
    def __init__(self, client: httpx.Client, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    def send(self, case: Any) -> httpx.Response:
        data = case.as_transport_kwargs(base_url=self.base_url)
        body: Any = data.get("data")
        if "json" in data:
            body = json.dumps(data["json"]).encode()
        headers = {k: str(v) for k, v in (data.get("headers") or {}).items()}
        return self.client.request(
            data["method"], data["url"], headers=headers, params=data.get("params") or None, content=body
        )


class AsgiSender:
    def __init__(self, app: Any, base_url: str = IN_PROCESS_URL) -> None:
        self.app = app
        self.base_url = base_url

    def send(self, case: Any) -> Any:
        return case.call(app=self.app)


def header_of(response: Any, name: str) -> str | None:
    """A response header, whatever the response type (schemathesis keeps lists under lowercase names)."""
    value = response.headers.get(name.lower())
    if value is None:
        value = response.headers.get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)
