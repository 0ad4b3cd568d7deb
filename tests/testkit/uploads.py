"""Client-side helpers for upload tests: sessions, Locations with extra query values, storage probes."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode, urlsplit

import httpx

from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver

OCTET = {"Content-Type": "application/octet-stream"}


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


def with_query(location: str, **params: str) -> str:
    """``location`` with ``params`` appended, keeping its query (httpx's ``params=`` would replace it)."""
    separator = "&" if urlsplit(location).query else "?"
    return location + separator + urlencode(params)


def upload_id(location: str) -> str:
    """The session id: the last path segment of an upload Location."""
    return urlsplit(location).path.rstrip("/").rsplit("/", 1)[1]


async def start(client: httpx.AsyncClient, name: str) -> str:
    """Open an upload session in ``name``; returns its Location."""
    r = await client.post(f"/v2/{name}/blobs/uploads/")
    assert r.status_code == 202, r.text
    return r.headers["Location"]


def sessions(driver: StorageDriver, name: str) -> list[str]:
    """The upload sessions ``name`` holds in storage (ids)."""
    try:
        return [child.rsplit("/", 1)[1] for child in driver.list(paths.uploads_root(name))]
    except PathNotFoundError:
        return []


def blob_stored(driver: StorageDriver, digest: str) -> bool:
    """Whether the registry-wide store holds data for ``digest`` (linked anywhere or not)."""
    try:
        driver.stat(paths.blob_data_path(digest))
    except PathNotFoundError:
        return False
    return True


def linked(driver: StorageDriver, name: str, digest: str) -> bool:
    """Whether ``name`` has a layer link for ``digest``."""
    try:
        driver.stat(paths.layer_link_path(name, digest))
    except PathNotFoundError:
        return False
    return True
