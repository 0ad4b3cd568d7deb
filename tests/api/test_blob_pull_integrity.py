"""A blob GET serves the bytes its digest names even when the blob goes away mid-download: the reader is opened
before the first byte (``services.blobs.BlobFound.open``), so a garbage collection or an unlink while a client
is still reading leaves that download whole (the open file keeps its data), on both local drivers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import Helper, error_codes, sha256

from registry_impl.api.context import AppState
from registry_impl.services import blobs
from registry_impl.services.blobs import CHUNK

pytestmark = pytest.mark.anyio

DATA = bytes(range(256)) * (3 * CHUNK // 256 + 7)  # a few read chunks and a tail


def collect(state: AppState, digest: str) -> None:
    state.registry.blobs.delete(digest)  # the data goes, as garbage collection removes it


def unlink(state: AppState, digest: str) -> None:
    state.registry.repository("pull/whole").blobs.delete(digest)


@pytest.mark.parametrize("remove", [collect, unlink], ids=["collected", "unlinked"])
async def test_a_blob_removed_mid_download_is_served_whole(
    state: AppState, client: httpx.AsyncClient, push: Helper, remove: Callable[[AppState, str], None]
) -> None:
    digest = await push.blob("pull/whole", DATA)
    found = await blobs.find(state, "pull/whole", digest, "GET")
    body = await found.open(0, found.info.size)
    received = [await anext(body)]
    remove(state, digest)
    received += [chunk async for chunk in body]
    assert sha256(b"".join(received)) == digest
    r = await client.get(f"/v2/pull/whole/blobs/{digest}")  # the next GET: refused before any byte
    assert r.status_code == 404 and error_codes(r) == ["BLOB_UNKNOWN"]
