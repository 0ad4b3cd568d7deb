"""The bench's lifetime: blob files, the seeded catalog, the servers started and stopped, content pushed and checked.

Both registries get the same content before any timing: the catalog's repositories written into their data
dirs before they start, then through the API an image under ``latest``, the same image under every tag of the
tag-list repository, and the blob that the pull measurement reads. Both must then do the same work: a registry
that does not serve what was written (every tag in one unpaginated answer, a full catalog page, the
manifest's exact bytes), or two that answer lists of different lengths, fail that metric loudly and it is
not measured (``Bench.unequal``) rather than timing different work.

Everything lives under ``workdir`` (``--data-dir``): both data dirs, the blob files pushed from, and the file
nginx serves, which is the very file our registry stores the pulled blob in (same medium, same bytes).

With ``s3`` both registries store into buckets of one moto server and serve blobs themselves (redirects off);
only the push and pull scenarios run then, so neither the catalog seeding (files written into the data dirs)
nor the tag-list content is made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from registry_toolkit.bench import s3 as s3_storage
from registry_toolkit.bench import servers, transfers
from registry_toolkit.bench.payloads import BlobFile, MiB, blob_dir, seed_repositories, small_image
from registry_toolkit.bench.profiles import Profile
from registry_toolkit.bench.report import BASELINE, OURS
from registry_toolkit.bench.scenarios import (
    ACCEPT,
    IMAGE_REPO,
    PUSH_REPO,
    TAGS_REPO,
    Bench,
    Target,
    catalog_path,
    progress,
    tags_path,
)

CLIENT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


@contextlib.contextmanager
def open_bench(
    profile: Profile,
    workdir: Path,
    *,
    server: str,
    workers: int,
    s3: bool = False,
    ours_config: Mapping[str, Any] | None = None,
) -> Iterator[Bench]:
    """Everything a round needs, running; stops every process it started on the way out."""
    progress(f"writing blobs of {profile.blob_mib} MiB and {profile.resource_mib} MiB to {workdir}")
    blob = BlobFile(workdir / "blob.bin", profile.blob_mib * MiB)
    big = BlobFile(workdir / "big.bin", profile.resource_mib * MiB)
    image = small_image()
    roots = {side: workdir / side / "data" for side in (OURS, BASELINE)}
    if not s3:
        progress(f"seeding {profile.repositories} repositories into both data dirs")
        for root in roots.values():
            seed_repositories(root, profile.repositories)
    with contextlib.ExitStack() as stack:
        catalog: dict[str, Any] = {"catalog": {"maxentries": profile.catalog_page}}
        moto, storage, buckets = None, {OURS: catalog, BASELINE: catalog}, {OURS: "", BASELINE: ""}
        if s3:
            progress("starting moto's S3 server and a bucket for each registry")
            moto = s3_storage.start_moto(workdir / "moto")
            stack.callback(moto.stop)
            for side in (OURS, BASELINE):
                buckets[side] = moto.create_bucket(f"bench-{side}")
                storage[side] = {**catalog, "storage": moto.storage(buckets[side])}
        progress("starting the reference and ours")
        reference = servers.start_reference(
            workdir / "reference", roots[BASELINE], extra_config=storage[BASELINE]
        )
        stack.callback(reference.stop)
        # No tags.maxtags: by default ours lists every tag in one answer, as the reference does (it ignores n).
        ours = servers.start_ours(
            workdir / "ours",
            roots[OURS],
            server=server,
            workers=workers,
            extra_config={**storage[OURS], **(ours_config or {})},
        )
        stack.callback(ours.stop)
        clients = [
            stack.enter_context(httpx.Client(base_url=p.url, timeout=CLIENT_TIMEOUT))
            for p in (ours, reference)
        ]
        bench = Bench(
            profile=profile,
            workdir=workdir,
            ours=Target(OURS, ours, clients[0], buckets[OURS]),
            reference=Target(BASELINE, reference, clients[1], buckets[BASELINE]),
            s3=moto,
            blob=blob,
            pulled=blob.digest,
            big=big,
            image=image,
            server=server,
            workers=workers,
        )
        what = "the image and the pull blob" if s3 else f"the image, {profile.tags} tags and the pull blob"
        progress(f"pushing {what} to both (in parallel)")
        with ThreadPoolExecutor(2) as pool:
            for _ in pool.map(partial(prepare, bench), (bench.reference, bench.ours)):
                pass
        compare(bench)
        # nginx serves the file ours stores the pulled blob in (under S3 that is in moto: the pushed file).
        served = blob.path if s3 else blob_dir(roots[OURS], bench.pulled) / "data"
        if not served.is_file():
            raise servers.ServerFailed(f"ours stored the pulled blob elsewhere than {served}")
        progress(f"starting nginx on {served}")
        bench.nginx = servers.start_nginx(workdir / "nginx", served)
        stack.callback(bench.nginx.stop)
        yield bench


def prepare(bench: Bench, target: Target) -> None:
    client = target.client
    transfers.push_image(client, IMAGE_REPO, bench.image, ["latest"])
    if bench.s3 is None:
        transfers.push_image(client, TAGS_REPO, bench.image, [f"t{i:05d}" for i in range(bench.profile.tags)])
    transfers.push_monolithic(client, PUSH_REPO, bench.blob)
    for key, problem in check(bench, target):
        bench.results.fail(key, target.side, problem)
        bench.unequal.add(key)  # not measured: the table shows an error and the run exits 1
        progress(f"CHECK FAILED on {target.process.name}: {key}: {problem}")


def check(bench: Bench, target: Target) -> Iterator[tuple[str, str]]:
    """(metric, problem) for everything a registry does not serve as written."""
    client, profile = target.client, bench.profile
    manifest = client.get(f"/v2/{IMAGE_REPO}/manifests/latest", headers=ACCEPT)
    if manifest.status_code != 200 or manifest.content != bench.image.manifest:
        yield "manifest-get", f"GET manifest: {manifest.status_code}, {len(manifest.content)} bytes"
    head = client.head(f"/v2/{IMAGE_REPO}/manifests/latest", headers=ACCEPT)
    if head.status_code != 200:
        yield "manifest-head", f"HEAD manifest: {head.status_code}"
    if bench.s3 is not None:  # no tag list or catalog content: those scenarios do not run
        yield from check_blob(bench, target)
        return
    tags = client.get(tags_path(bench))
    found = len(tags.json().get("tags") or []) if tags.status_code == 200 else -1
    target.listed["tags"] = (found, len(tags.content))
    if found != profile.tags or "link" in tags.headers:
        yield (
            "tags",
            (
                f"tags list: status {tags.status_code}, {found} of {profile.tags} tags"
                f"{', paginated (Link)' if 'link' in tags.headers else ''}: every tag in one answer expected"
            ),
        )
    catalog = client.get(catalog_path(bench))
    expected = min(profile.catalog_page, profile.repositories + 3)
    listed = len(catalog.json().get("repositories") or []) if catalog.status_code == 200 else -1
    target.listed["catalog"] = (listed, len(catalog.content))
    if listed != expected:
        yield "catalog", f"catalog page: status {catalog.status_code}, {listed} of {expected} repositories"
    yield from check_blob(bench, target)


def compare(bench: Bench) -> None:
    """Both registries list the same number of entries: otherwise the list metric would compare unequal work."""
    for key in ("tags", "catalog"):
        ours, reference = bench.ours.listed.get(key), bench.reference.listed.get(key)
        if ours is None or reference is None or ours[0] == reference[0]:
            continue
        problem = f"unequal work: ours answers {ours[0]} entries, the reference {reference[0]}"
        for side in (OURS, BASELINE):
            bench.results.fail(key, side, problem)
        bench.unequal.add(key)
        progress(f"CHECK FAILED: {key}: {problem}")


def check_blob(bench: Bench, target: Target) -> Iterator[tuple[str, str]]:
    blob = target.client.head(f"/v2/{PUSH_REPO}/blobs/{bench.pulled}")
    if blob.status_code != 200 or int(blob.headers.get("content-length", -1)) != bench.blob.size:
        yield "pull", f"HEAD blob: {blob.status_code}, Content-Length {blob.headers.get('content-length')}"
