"""The three races of issue 11, each against a real server in every configuration (they failed before).

1. Manifest PUTs overlapping upload completions were validated as completions (granian shared one
   extensions dict between requests; connexion stored the routed operation in it).
2. Two completions of one session: ``?digest=sha256(X)`` with no body against ``?digest=sha256(X+Z)`` with
   body Z; blob ``sha256(X)`` could end up holding X+Z.
3. A PATCH still writing while the upload completes: its bytes landed in the committed blob file.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from testkit.processes import Server
from testkit.workload import OCI_MANIFEST, OCTETS, pushed_blobs_manifest, sha256


def _manifest(config: str, layer: str, size: int) -> bytes:
    return (
        b'{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.empty.v1+json",'
        b'"digest":"%s","size":2},"layers":[{"mediaType":"application/octet-stream","digest":"%s","size":%d}]}'
        % (OCI_MANIFEST.encode(), config.encode(), layer.encode(), size)
    )


def test_manifest_puts_overlapping_upload_completions(server: Server) -> None:
    """32 threads, each: an upload (POST, PUT ?digest=) of 2 KB into p/r{i%4}, then a manifest PUT by tag."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert (
            http.post(
                "/v2/races1/p/r0/blobs/uploads/", params={"digest": sha256(b"{}")}, content=b"{}"
            ).status_code
            == 201
        )

    def push(i: int) -> list[str]:
        name, blob = f"races1/p/r{i % 4}", b"%05d-" % i * 340
        wrong = []
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for attempt in range(3):
                r = http.post(f"/v2/{name}/blobs/uploads/")
                r = http.put(
                    r.headers["location"], params={"digest": sha256(blob)}, content=blob, headers=OCTETS
                )
                if r.status_code != 201:
                    wrong.append(f"upload {i}/{attempt}: {r.status_code} {r.text[:120]}")
                http.post(f"/v2/{name}/blobs/uploads/", params={"digest": sha256(b"{}")}, content=b"{}")
                body = _manifest(sha256(b"{}"), sha256(blob), len(blob))
                r = http.put(
                    f"/v2/{name}/manifests/t{i}-{attempt}",
                    content=body,
                    headers={"Content-Type": OCI_MANIFEST},
                )
                if r.status_code != 201:
                    wrong.append(f"manifest {i}/{attempt}: {r.status_code} {r.text[:120]}")
        return wrong

    with ThreadPoolExecutor(32) as pool:
        wrong = [line for lines in pool.map(push, range(32)) for line in lines]
    assert not wrong, wrong[:5]


def test_two_completions_of_one_upload(server: Server) -> None:
    """Exactly one of two concurrent completions wins (the other: 404); a digest never serves other bytes."""
    x, z = b"x" * 3000, b"z" * 500
    outcomes: dict[tuple[int, int], int] = {}
    with httpx.Client(base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=8)) as http:
        for round_ in range(60):
            name = f"races2/r{round_}"
            r = http.post(f"/v2/{name}/blobs/uploads/")
            r = http.patch(r.headers["location"], content=x, headers=OCTETS)
            assert r.status_code == 202, r.text
            location = r.headers["location"]
            barrier = threading.Barrier(2)

            def complete(
                body: bytes, digest: str, location: str = location, barrier: threading.Barrier = barrier
            ) -> int:
                barrier.wait()
                return http.put(location, params={"digest": digest}, content=body, headers=OCTETS).status_code

            with ThreadPoolExecutor(2) as pool:
                first = pool.submit(complete, b"", sha256(x))
                second = pool.submit(complete, z, sha256(x + z))
                statuses = (first.result(), second.result())
            outcomes[statuses] = outcomes.get(statuses, 0) + 1
            assert sorted(statuses) in ([201, 404], [201, 400]), statuses
            for data in (x, x + z):
                got = http.get(f"/v2/{name}/blobs/{sha256(data)}")
                assert got.status_code in (200, 404)
                if got.status_code == 200:
                    assert got.content == data, (
                        f"round {round_}: {sha256(data)} served {len(got.content)} bytes"
                    )
    assert sum(outcomes.values()) == 60


def _hold_patch(server: Server, location: str, first: bytes, total: int) -> socket.socket:
    """Send a PATCH's headers and the first part of its body, and keep the connection open."""
    path = location.split(server.host, 1)[-1] if location.startswith("http") else location
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {total}\r\n\r\n"
    ).encode()
    sock.sendall(head + first)
    return sock


def test_patch_still_writing_while_the_upload_completes(server: Server) -> None:
    """The completion waits for the PATCH holding the session (or gives up with 429); the bytes committed
    under a digest are the bytes that hash to it, and a later push of the same blob reads right."""
    x, y = b"X" * 4096, b"Y" * 8192
    with httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post("/v2/races3/a/blobs/uploads/")
        r = http.patch(r.headers["location"], content=x, headers=OCTETS)
        assert r.status_code == 202
        location = r.headers["location"]
        held = _hold_patch(server, location, y[:4096], len(y))
        time.sleep(0.3)  # the PATCH is inside the server, holding the session
        answer: dict[str, httpx.Response] = {}
        completing = threading.Thread(
            target=lambda: answer.setdefault("put", http.put(location, params={"digest": sha256(x)}))
        )
        completing.start()
        time.sleep(0.5)
        assert "put" not in answer, f"the completion answered while a PATCH held the session: {answer['put']}"
        held.sendall(y[4096:])
        reply = held.recv(4096)
        held.close()
        completing.join(30)
        assert reply.startswith(b"HTTP/1.1 202"), reply[:200]
        put = answer["put"]
        # The session now holds X+Y: completing it as X must fail and discard it.
        assert put.status_code == 400 and put.json()["errors"][0]["code"] == "DIGEST_INVALID", put.text
        blob = http.get(f"/v2/races3/a/blobs/{sha256(x)}")
        assert blob.status_code == 404 or blob.content == x
        # Another user pushes X: 201, and reads X.
        r = http.post("/v2/races3/b/blobs/uploads/", params={"digest": sha256(x)}, content=x, headers=OCTETS)
        assert r.status_code == 201
        assert http.get(f"/v2/races3/b/blobs/{sha256(x)}").content == x


def test_delete_by_digest_against_tag_writes(server: Server) -> None:
    """DELETE A by digest while one client moves tag t from A to B and another points u at A: the move is
    never undone (t ends at B), and u never points at a revision the delete removed (torn)."""
    rounds = 40
    with httpx.Client(base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=8)) as http:
        for round_ in range(rounds):
            name = f"races4/r{round_}"
            a, digest_a = pushed_blobs_manifest(http, name, b"a%d" % round_)
            b, digest_b = pushed_blobs_manifest(http, name, b"b%d" % round_)
            for ref, body in (("t", a), (digest_b, b)):
                r = http.put(
                    f"/v2/{name}/manifests/{ref}", content=body, headers={"Content-Type": OCI_MANIFEST}
                )
                assert r.status_code == 201, r.text
            barrier = threading.Barrier(3)

            def run(
                method: str,
                ref: str,
                body: bytes | None,
                barrier: threading.Barrier = barrier,
                name: str = name,
            ) -> int:
                barrier.wait()
                headers = {"Content-Type": OCI_MANIFEST} if body is not None else {}
                url = f"/v2/{name}/manifests/{ref}"
                return http.request(method, url, content=body, headers=headers).status_code

            with ThreadPoolExecutor(3) as pool:
                deleted = pool.submit(run, "DELETE", digest_a, None)
                moved = pool.submit(run, "PUT", "t", b)
                pointed = pool.submit(run, "PUT", "u", a)
                statuses = (deleted.result(), moved.result(), pointed.result())
            assert statuses[0] in (202, 404) and statuses[1:] == (201, 201), statuses
            t = http.get(f"/v2/{name}/manifests/t", headers={"Accept": OCI_MANIFEST})
            assert t.status_code == 200 and t.headers["docker-content-digest"] == digest_b, (
                f"round {round_}: the acknowledged move of t to B was undone ({t.status_code})"
            )
            u = http.get(f"/v2/{name}/manifests/u", headers={"Accept": OCI_MANIFEST})
            if u.status_code == 200:
                revision = http.get(f"/v2/{name}/manifests/{digest_a}", headers={"Accept": OCI_MANIFEST})
                assert revision.status_code == 200, f"round {round_}: u points at A, whose revision is gone"
            listed = set(http.get(f"/v2/{name}/tags/list").json().get("tags") or [])
            resolving = {
                tag
                for tag in ("t", "u")
                if http.get(f"/v2/{name}/manifests/{tag}", headers={"Accept": OCI_MANIFEST}).status_code
                == 200
            }
            assert listed == resolving, (listed, resolving)
