"""A manifest PUT that meets a blob claim another process holds waits for it without stalling its worker.

The claim is held here, in the test process, on the server's own root (claims are byte-range locks in one
file every process on the root shares, as another worker or ``registry garbage-collect`` would hold them).
While the PUT waits, the server keeps answering other requests on new connections.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from testkit.processes import Server
from testkit.workload import OCI_MANIFEST, pushed_blobs_manifest

from registry_impl.storage import paths
from registry_impl.storage.driver.filesystem import FilesystemDriver

HELD = 1.0  # seconds the claim is held


def test_a_put_waiting_for_a_blob_claim_leaves_the_server_answering(server: Server) -> None:
    name = "claimwait/r"
    with httpx.Client(base_url=server.url, timeout=30) as http, ThreadPoolExecutor(2) as pool:
        body, digest = pushed_blobs_manifest(http, name, b"claimwait")
        held = FilesystemDriver(server.root).try_claim(paths.blob_claim_path(digest), 15.0)
        assert held is not None
        threading.Timer(HELD, held.release).start()
        started = time.monotonic()
        put = pool.submit(
            http.put, f"/v2/{name}/manifests/v1", content=body, headers={"Content-Type": OCI_MANIFEST}
        )
        slowest = 0.0
        while not put.done():
            sent = time.monotonic()
            r = httpx.get(server.url + "/v2/", headers={"Connection": "close"}, timeout=30)
            assert r.status_code == 200
            slowest = max(slowest, time.monotonic() - sent)
            time.sleep(0.02)
        response = put.result()
        assert response.status_code == 201, response.text
        assert time.monotonic() - started >= HELD * 0.9  # the PUT did wait for the claim
        assert slowest < HELD / 3, slowest  # while the server went on answering
