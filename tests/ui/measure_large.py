"""Page times of the UI on a large registry: 100 000 repositories and one repository with 10 000 tags.

Not a test (it takes a minute to lay out the storage); run it by hand and copy the table into the README::

    .venv/bin/python tests/ui/measure_large.py [--repositories 100000] [--tags 10000] [--server granian]

One image is pushed through the API; the other repositories and tags are written as distribution's
layout links to it (what a registry that grew to this size holds on disk), then ``registry serve`` runs
on that storage and each page is fetched several times; the median and the worst are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testkit.oci_layout import sha256
from testkit.processes import start_ours

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ROUNDS = 7


def push_one(client: httpx.Client, name: str) -> tuple[str, bytes]:
    config = json.dumps({"os": "linux", "architecture": "amd64", "created": "2026-01-01T00:00:00Z"}).encode()
    layer = os.urandom(4096)
    for blob in (config, layer):
        client.post(
            f"/v2/{name}/blobs/uploads/", params={"digest": sha256(blob)}, content=blob
        ).raise_for_status()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha256(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    client.put(
        f"/v2/{name}/manifests/seed", content=manifest, headers={"Content-Type": OCI_MANIFEST}
    ).raise_for_status()
    return sha256(manifest), manifest


def link(path: Path, digest: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "link").write_text(digest)


def lay_out(root: Path, template: str, digest: str, repositories: int, tags: int) -> None:
    repos = root / "docker/registry/v2/repositories"
    source = repos / template
    alg, hexa = digest.split(":")
    for i in range(repositories):
        manifests = repos / f"team{i % 100:02d}" / f"app{i:06d}" / "_manifests"
        link(manifests / "revisions" / alg / hexa, digest)
        link(manifests / "tags" / "latest" / "current", digest)
        for layer in (source / "_layers" / alg).iterdir():
            link(
                repos / f"team{i % 100:02d}" / f"app{i:06d}" / "_layers" / alg / layer.name,
                f"{alg}:{layer.name}",
            )
    for t in range(tags):
        link(source / "_manifests" / "tags" / f"t{t:05d}" / "current", digest)


def timed(client: httpx.Client, path: str) -> tuple[float, float]:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--server", default="granian")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_ours(Path(tmp) / "ours", server=args.server)
        try:
            with server.client() as client:
                digest, _ = push_one(client, "big/repo")
            started = time.monotonic()
            lay_out(server.root, "big/repo", digest, args.repositories, args.tags)
            print(
                f"laid out {args.repositories} repositories, {args.tags} tags in {time.monotonic() - started:.0f}s"
            )
            pages = [
                "/ui/",
                "/ui/?last=team50/app050050",
                "/ui/?prefix=team42/",
                "/ui/repositories/big/repo",
                "/ui/repositories/big/repo?last=t05000",
                f"/ui/repositories/big/repo/-/manifests/{digest}",
            ]
            with server.client() as client:
                client.get("/ui/")  # the first page fills the listing caches
                print("| page | median ms | worst ms |\n|---|---|---|")
                for page in pages:
                    median, worst = timed(client, page)
                    print(f"| `{page}` | {median:.0f} | {worst:.0f} |")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
