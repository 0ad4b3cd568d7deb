"""Where durable writes wait for a disk (the filesystem driver syncing to a root that is not in memory), a
manifest PUT's storage work and an upload session's start run in a worker thread: their syncs and file
creations (2-5 ms and ~2 ms on this machine's ext4, more when the disk is busy) no longer stop every other
request of the process. Before, on local storage they ran on the event loop."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from testkit.loopwatch import while_ticking
from testkit.registry import OCI_MANIFEST, Helper

from registry_impl.api.context import AppState
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.filesystem import FilesystemDriver

pytestmark = pytest.mark.anyio
SLOW = 0.3  # seconds the slowed durable write takes here (a disk under load)


@pytest.fixture
def driver(tmp_path: Path) -> StorageDriver:
    return FilesystemDriver(rootdirectory=str(tmp_path / "data"), fsync=True)


#: The durable write each operation makes that this test slows down, and the request.
SLOWED = {
    "manifest-put": ("/_manifests/revisions/", "PUT", "/v2/org/app/manifests/v2"),
    "upload-start": ("/startedat", "POST", "/v2/org/app/blobs/uploads/"),
}


@pytest.mark.parametrize("operation", sorted(SLOWED))
async def test_a_write_waiting_for_the_disk_leaves_the_event_loop_serving(
    client: httpx.AsyncClient, state: AppState, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    pushed = await Helper(client).image("org/app", "v1")
    driver = state.registry.driver
    assert isinstance(driver, FilesystemDriver)
    state.offload.synced = True  # as on a disk, wherever this test's temporary directory lies
    marker, method, url = SLOWED[operation]
    write = driver._put_content

    def slow_write(path: str, content: bytes) -> None:
        if marker in path:
            time.sleep(SLOW)
        write(path, content)

    monkeypatch.setattr(driver, "_put_content", slow_write)
    other = json.dumps({**json.loads(pushed.content), "annotations": {"a": "b"}}).encode()

    async def request() -> httpx.Response:
        if method == "PUT":
            return await client.put(url, content=other, headers={"Content-Type": OCI_MANIFEST})
        return await client.post(url)

    response, longest_gap = await while_ticking(request)
    assert response.status_code in (201, 202), response.text
    assert longest_gap < SLOW / 4, longest_gap


def test_the_filesystem_driver_says_when_its_syncs_wait(tmp_path: Path) -> None:
    from registry_impl.storage.driver import direct

    on_disk = not direct.in_memory(str(tmp_path))
    assert FilesystemDriver(tmp_path / "a", fsync=True).syncs_wait is on_disk
    assert FilesystemDriver(tmp_path / "b", fsync="commit").syncs_wait is on_disk
    assert FilesystemDriver(tmp_path / "c", fsync=False).syncs_wait is False
    if direct.in_memory("/dev/shm"):
        assert FilesystemDriver("/dev/shm/registry-never-created", fsync=True).syncs_wait is False
