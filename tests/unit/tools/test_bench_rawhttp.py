"""The chunked push's minimal HTTP/1.1 client (``registry_toolkit.bench.rawhttp``) against a loopback server
that records what arrived: bodies sent from a file at an offset arrive exact, answers sized by Content-Length or
chunked are read whole, and a connection the server closes is opened again for the next request."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_toolkit.bench.rawhttp import Connection, parse_head

ANSWERS = [
    b"HTTP/1.1 202 Accepted\r\nLocation: /next?_state=x\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
]


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[bytes, bytes]], list[int]]]:
    """A server answering ANSWERS in turn; yields its URL, the (head, body) of each request, and how many
    connections it accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[tuple[bytes, bytes]] = []
    accepted = [0]

    def serve() -> None:
        answers = iter(ANSWERS)
        while len(seen) < len(ANSWERS):
            conn, _ = listener.accept()
            accepted[0] += 1
            with conn:
                buffer = b""
                while len(seen) < len(ANSWERS):
                    while b"\r\n\r\n" not in buffer:
                        buffer += conn.recv(65536)
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    length = int(
                        parse_head(b"HTTP/1.1 200 x\r\n" + head.split(b"\r\n", 1)[1])[1]["content-length"]
                    )
                    while len(buffer) < length:
                        buffer += conn.recv(65536)
                    seen.append((head, buffer[:length]))
                    buffer = buffer[length:]
                    answer = next(answers)
                    conn.sendall(answer)
                    if b"Connection: close" in answer:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen, accepted
    thread.join(timeout=10)
    listener.close()


def test_bodies_from_a_file_and_every_kind_of_answer(
    server: tuple[str, list[tuple[bytes, bytes]], list[int]], tmp_path: Path
) -> None:
    url, seen, accepted = server
    source = tmp_path / "blob"
    data = bytes(range(256)) * 8192  # 2 MiB: more than a socket buffer holds
    source.write_bytes(data)
    with Connection(url) as http, source.open("rb") as body:
        first = http.request(
            "PATCH", "/v2/a/blobs/uploads/u", {"Content-Range": "5-1048580"}, body, 5, 1 << 20
        )
        assert (first.status, first.headers["location"]) == (202, "/next?_state=x")
        second = http.request("PATCH", url + first.headers["location"], {}, body, 0, 3)
        assert (second.status, second.body) == (400, b"hello world")
        third = http.request("PUT", "/done?digest=sha256:x")
        assert (third.status, third.body) == (201, b"ok")
        fourth = http.request("GET", "/again")
        assert fourth.status == 202
    heads = [head.split(b"\r\n")[0] for head, _ in seen]
    assert heads == [
        b"PATCH /v2/a/blobs/uploads/u HTTP/1.1",
        b"PATCH /next?_state=x HTTP/1.1",
        b"PUT /done?digest=sha256:x HTTP/1.1",
        b"GET /again HTTP/1.1",
    ]
    assert seen[0][1] == data[5 : 5 + (1 << 20)] and seen[1][1] == data[:3]
    assert accepted[0] == 2  # one keep-alive connection until the server closed it


def test_a_head_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_head(b"SSH-2.0-OpenSSH\r\n")
    assert parse_head(b"HTTP/1.1 404 Not Found\r\nX-A: 1\r\nx-a: 2\r\n") == (404, {"x-a": "2"})
