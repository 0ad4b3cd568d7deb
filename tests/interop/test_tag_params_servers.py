"""Tag parameters on real servers: granian and uvicorn with two workers, eight clients pushing different
manifests by digest with the same three tags at once. Each request's tags move together (every tag's claim
is held in storage, across workers), so the three tags end on one manifest, and every answer names them."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from testkit.processes import Spawner

pytestmark = pytest.mark.interop
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
TAGS = ("c", "a", "b")


def _blob(client: httpx.Client, name: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = client.post(f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=data)
    assert r.status_code == 201, r.text
    return digest


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_parallel_pushes_move_all_tags_or_none(spawn: Spawner, server: str) -> None:
    registry = spawn.ours(server, server=server, workers=2)
    with registry.client() as client:
        config = b'{"architecture":"amd64","os":"linux"}'
        config_digest = _blob(client, "race/app", config)
        manifests = []
        for i in range(8):
            document = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                           "size": len(config)},
                "layers": [],
                "annotations": {"n": str(i)},
            }  # fmt: skip
            manifests.append(json.dumps(document).encode())

    def push(content: bytes) -> tuple[int, list[str]]:
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        with registry.client() as c:
            r = c.put(
                f"/v2/race/app/manifests/{digest}",
                params=[("tag", t) for t in TAGS],
                content=content,
                headers={"Content-Type": OCI_MANIFEST},
            )
        return r.status_code, sorted(r.headers.get_list("OCI-Tag"))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(push, manifests))
    assert answers == [(201, sorted(TAGS))] * 8, answers
    with registry.client() as client:
        targets = {
            client.head(f"/v2/race/app/manifests/{t}", headers={"Accept": OCI_MANIFEST}).headers[
                "Docker-Content-Digest"
            ]
            for t in TAGS
        }
        assert len(targets) == 1, targets
        assert client.get("/v2/race/app/tags/list").json()["tags"] == sorted(TAGS)
