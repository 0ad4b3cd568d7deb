"""RetryTransport: 429 with Retry-After, 5xx then success, connection errors, and what must not be repeated."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from registry_client.transport import RetryPolicy, RetryTransport, retry_after

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*steps: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering each request with the next step (an exception is raised instead)."""
    seen: list[httpx.Request] = []
    remaining = list(steps)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        request.read()
        step = remaining.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    return httpx.MockTransport(handle), seen


def client(inner: httpx.BaseTransport, sleeps: list[float], **policy: float) -> httpx.Client:
    retry = RetryPolicy(**{"backoff": 0.5, "jitter": 0.0, **policy})  # type: ignore[arg-type]
    return httpx.Client(transport=RetryTransport(inner, retry, sleeps.append), base_url="http://r.test")


def test_429_waits_what_retry_after_asks() -> None:
    inner, seen = scripted(httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, text="ok"))
    sleeps: list[float] = []
    r = client(inner, sleeps).get("/v2/")
    assert (r.status_code, r.text, len(seen), sleeps) == (200, "ok", 2, [3.0])


def test_retry_after_is_capped() -> None:
    inner, _ = scripted(httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200))
    sleeps: list[float] = []
    client(inner, sleeps, max_delay=5.0).get("/v2/")
    assert sleeps == [5.0]


def test_503_then_success_backs_off_exponentially() -> None:
    inner, seen = scripted(httpx.Response(503), httpx.Response(502), httpx.Response(200))
    sleeps: list[float] = []
    assert client(inner, sleeps).get("/v2/").status_code == 200
    assert (len(seen), sleeps) == (3, [0.5, 1.0])


def test_connection_error_then_success() -> None:
    inner, seen = scripted(httpx.ConnectError("refused"), httpx.Response(200))
    sleeps: list[float] = []
    assert client(inner, sleeps).post("/v2/a/blobs/uploads/").status_code == 200
    assert len(seen) == 2 and sleeps == [0.5]


def test_gives_up_after_attempts_with_the_last_answer() -> None:
    inner, seen = scripted(*[httpx.Response(503)] * 3)
    sleeps: list[float] = []
    assert client(inner, sleeps, attempts=3).get("/v2/").status_code == 503
    assert len(seen) == 3 and len(sleeps) == 2


def test_gives_up_after_attempts_raising_the_last_error() -> None:
    inner, seen = scripted(*[httpx.ConnectError("refused")] * 2)
    with pytest.raises(httpx.ConnectError):
        client(inner, [], attempts=2).get("/v2/")
    assert len(seen) == 2


def test_a_request_on_the_wire_is_repeated_only_when_idempotent() -> None:
    inner, seen = scripted(httpx.ReadError("reset"), httpx.Response(200))
    with pytest.raises(httpx.ReadError):
        client(inner, []).patch("/v2/a/blobs/uploads/x", content=b"data")
    assert len(seen) == 1
    inner, seen = scripted(httpx.ReadError("reset"), httpx.Response(201))
    assert client(inner, []).put("/v2/a/manifests/v1", content=b"{}").status_code == 201
    assert len(seen) == 2


def test_a_streamed_body_is_never_repeated() -> None:
    inner, seen = scripted(httpx.Response(503), httpx.Response(202))

    def body() -> Iterator[bytes]:
        yield b"chunk"

    assert client(inner, []).patch("/v2/a/blobs/uploads/x", content=body()).status_code == 503
    assert len(seen) == 1


def test_client_errors_are_not_retried() -> None:
    inner, seen = scripted(httpx.Response(404), httpx.Response(200))
    assert client(inner, []).get("/v2/a/manifests/x").status_code == 404
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert retry_after(value, now) == expected


def test_a_tls_refusal_is_not_retried() -> None:
    """An untrusted certificate or a refused client certificate does not mend by waiting: one try."""
    refused = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    refused.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    inner, seen = scripted(refused, httpx.Response(200))
    sleeps: list[float] = []
    with pytest.raises(httpx.ConnectError):
        client(inner, sleeps).get("/v2/")
    assert (len(seen), sleeps) == (1, [])
