"""What the relay refuses, before a byte reaches the destination: the client then copies the blob its usual way.

Real sockets on loopback: a source that answers with a status of its choice, and a destination that only
records whether anyone connected.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from registry_client import Descriptor, RegistryClient
from registry_client.uploads import UploadSession
from registry_toolkit.dist.relay import MIN_SIZE, Refused, relay

DIGEST = "sha256:" + "ab" * 32
BIG = Descriptor("application/octet-stream", DIGEST, MIN_SIZE)


class Listener:
    """Accepts connections; answers each with ``answer`` (if any) and counts them."""

    def __init__(self, answer: bytes | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.recv(65536)
                if self.answer is not None:
                    conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def destination() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


def upload_at(listener: Listener) -> UploadSession:
    return UploadSession(
        "dst/repo", f"http://127.0.0.1:{listener.port}/v2/dst/repo/blobs/uploads/u1?_state=x"
    )


def run(source_url: str, destination: Listener, descriptor: Descriptor = BIG) -> None:
    with RegistryClient(source_url) as src, RegistryClient(f"http://127.0.0.1:{destination.port}") as dst:
        relay(src, "src/repo", dst, upload_at(destination), descriptor, lambda n: None)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/blob\r\nContent-Length: 0\r\n\r\n",
        b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="x"\r\nContent-Length: 0\r\n\r\n',
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",  # no length to check against
        f"HTTP/1.1 200 OK\r\nContent-Length: {MIN_SIZE + 1}\r\n\r\n".encode(),  # not the descriptor's size
        b"",  # closed without an answer
    ],
    ids=["redirect", "unauthorized", "chunked", "other-length", "no-answer"],
)
def test_a_source_answer_it_cannot_relay_is_refused_before_the_destination(
    destination: Listener, answer: bytes
) -> None:
    source = Listener(answer)
    try:
        with pytest.raises(Refused):
            run(f"http://127.0.0.1:{source.port}", destination)
    finally:
        source.close()
    assert source.connections == 1 and destination.connections == 0


def test_tls_small_blobs_and_proxies_are_left_to_the_client(
    destination: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(Refused):
        run("https://127.0.0.1:1", destination)
    with pytest.raises(Refused):
        run("http://127.0.0.1:1", destination, Descriptor("application/octet-stream", DIGEST, MIN_SIZE - 1))
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:1")
    with pytest.raises(Refused):
        run("http://127.0.0.1:1", destination)
    assert destination.connections == 0
