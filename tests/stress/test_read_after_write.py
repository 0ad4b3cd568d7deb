"""An acknowledged tag move, untag or manifest delete is seen by the very next request on every worker.

Manifest GETs read tag and revision links from each worker's memory (``linkcache``), vouched for by a token
table the workers share; this is what makes that safe. After each acknowledged change, readers on fresh
connections (spread over the server's workers by the kernel) must all see it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from testkit.processes import Server
from testkit.workload import OCI_MANIFEST, pushed_blobs_manifest

READERS = 6
ROUNDS = 30
ACCEPT = {"Accept": OCI_MANIFEST, "Connection": "close"}


def _pushed(http: httpx.Client, name: str, seed: bytes) -> tuple[bytes, str]:
    body, digest = pushed_blobs_manifest(http, name, seed)
    r = http.put(f"/v2/{name}/manifests/{digest}", content=body, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 201, r.text
    return body, digest


def _everyone_sees(server: Server, pool: ThreadPoolExecutor, path: str) -> set[tuple[int, str]]:
    """(status, digest) of READERS GETs of ``path``, each on a new connection."""

    def get(_: int) -> tuple[int, str]:
        r = httpx.get(server.url + path, headers=ACCEPT, timeout=30)
        return r.status_code, r.headers.get("docker-content-digest", "")

    return set(pool.map(get, range(READERS)))


def test_acknowledged_changes_are_seen_by_the_next_request_on_every_worker(server: Server) -> None:
    name = "readafter/r"
    with httpx.Client(base_url=server.url, timeout=30) as http, ThreadPoolExecutor(READERS) as pool:
        a, digest_a = _pushed(http, name, b"a")
        b, digest_b = _pushed(http, name, b"b")
        tag = f"/v2/{name}/manifests/t"
        for round_ in range(ROUNDS):
            body, digest = (a, digest_a) if round_ % 2 == 0 else (b, digest_b)
            r = http.put(tag, content=body, headers={"Content-Type": OCI_MANIFEST})
            assert r.status_code == 201, r.text
            seen = _everyone_sees(server, pool, tag)  # each worker cached the previous round's digest
            assert seen == {(200, digest)}, f"round {round_}: after moving t to {digest}: {seen}"
        assert http.delete(tag).status_code == 202
        assert _everyone_sees(server, pool, tag) == {(404, "")}
        assert _everyone_sees(server, pool, f"/v2/{name}/manifests/{digest_a}") == {(200, digest_a)}
        assert http.delete(f"/v2/{name}/manifests/{digest_a}").status_code == 202
        assert _everyone_sees(server, pool, f"/v2/{name}/manifests/{digest_a}") == {(404, "")}
        assert _everyone_sees(server, pool, f"/v2/{name}/manifests/{digest_b}") == {(200, digest_b)}
