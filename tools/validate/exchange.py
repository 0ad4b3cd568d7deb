"""A recorded request/response pair, with credentials redacted and bodies cut to an excerpt."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import httpx

EXCERPT = 2048
REDACTED = ("authorization", "proxy-authorization", "cookie", "set-cookie")


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as the report shows it."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    status: int | None
    response_headers: tuple[tuple[str, str], ...]
    response_body: str
    error: str = ""

    @classmethod
    def of(cls, response: httpx.Response, sent: bytes | None = None) -> Exchange:
        request = response.request
        body = sent if sent is not None else _request_bytes(request)
        return cls(
            method=request.method,
            url=str(request.url),
            request_headers=_headers(request.headers),
            request_body=excerpt(body),
            status=response.status_code,
            response_headers=_headers(response.headers),
            response_body=excerpt(response.content if _read(response) else b""),
        )

    @classmethod
    def failed(cls, request: httpx.Request, error: Exception) -> Exchange:
        return cls(
            method=request.method,
            url=str(request.url),
            request_headers=_headers(request.headers),
            request_body=excerpt(_request_bytes(request)),
            status=None,
            response_headers=(),
            response_body="",
            error=f"{type(error).__name__}: {error}",
        )

    def header(self, name: str) -> str | None:
        for key, value in self.response_headers:
            if key.lower() == name.lower():
                return value
        return None

    def request_text(self) -> str:
        lines = [f"{self.method} {self.url}"] + [f"{k}: {v}" for k, v in self.request_headers]
        return "\n".join(lines) + ("\n\n" + self.request_body if self.request_body else "")

    def response_text(self) -> str:
        if self.status is None:
            return f"(no response: {self.error})"
        lines = [f"HTTP {self.status}"] + [f"{k}: {v}" for k, v in self.response_headers]
        return "\n".join(lines) + ("\n\n" + self.response_body if self.response_body else "")

    def curl(self) -> str:
        """A curl command that repeats the request (credentials left out)."""
        parts = ["curl", "-i", "-X", self.method]
        for key, value in self.request_headers:
            if key.lower() not in ("host", "content-length", "accept-encoding", "connection", "user-agent"):
                parts += ["-H", f"{key}: {value}"]
        if self.request_body and not is_summary(self.request_body):
            parts += ["--data-binary", self.request_body]
        parts.append(self.url)
        return shlex.join(parts)


def excerpt(data: bytes) -> str:
    """Text of ``data`` up to EXCERPT bytes; binary content is summarised."""
    if not data:
        return ""
    head = data[:EXCERPT]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(data)} bytes of binary data: {head[:32].hex()}…>"
    if not text.isprintable() and any(ord(c) < 9 for c in text):
        return f"<{len(data)} bytes of binary data: {head[:32].hex()}…>"
    return text + (f"… ({len(data)} bytes in all)" if len(data) > EXCERPT else "")


def is_summary(text: str) -> bool:
    """True for what ``excerpt`` writes in place of binary content."""
    return text.startswith("<") and " bytes of binary data: " in text


def _headers(headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
    return tuple((k, "<redacted>" if k.lower() in REDACTED else v) for k, v in headers.items())


def _request_bytes(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        return b""


def _read(response: httpx.Response) -> bool:
    try:
        response.content  # noqa: B018 - raises when the body was streamed and not read
    except httpx.ResponseNotRead:
        return False
    return True
