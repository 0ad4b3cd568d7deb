"""notifications: each push, pull, mount and delete produces distribution's events, written to the storage
outbox before the response, delivered to a real HTTP receiver on loopback by the endpoint's sender.

Field by field against distribution's documented example (docs/about/notifications.md, ``event.go``):
the envelope's media type, the event's keys, the target's keys per action, the request and source records.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from testkit.receiver import Receiver
from testkit.registry import OCI_MANIFEST, Helper, sha256

from registry_impl import notifications
from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.api.eventsource import request_record
from registry_impl.notifications import sender as sender_module
from registry_impl.notifications.sender import counters
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.filesystem import FilesystemDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio

EVENT_KEYS = {"id", "timestamp", "action", "target", "request", "actor", "source"}
REQUEST_KEYS = {"id", "addr", "host", "method", "useragent"}
MANIFEST_TARGET = {"mediaType", "digest", "size", "length", "repository", "url"}
BLOB_TARGET = {"mediaType", "digest", "size", "length", "repository", "url"}


@pytest.fixture
def driver(tmp_path: Path) -> StorageDriver:
    """The filesystem only (the suite's budget); the outbox test runs on both local drivers."""
    return FilesystemDriver(rootdirectory=str(tmp_path / "data"), fsync=False)


@pytest.fixture(params=["inmemory", "filesystem"])
def any_driver(request: pytest.FixtureRequest, tmp_path: Path) -> StorageDriver:
    if request.param == "inmemory":
        return InMemoryDriver()
    return FilesystemDriver(rootdirectory=str(tmp_path / "data"), fsync=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def make_state(driver: StorageDriver, *endpoints: dict[str, Any], refs: bool = False) -> AppState:
    state = AppState(registry=Registry(driver, Policy(delete_enabled=True)), secret=b"s")
    state.notifier = notifications.create(
        tuple(endpoints), refs, driver, state.offload, request_record, source_addr="node:5000"
    )
    return state


@pytest.fixture
def endpoint(receiver: Receiver) -> dict[str, Any]:
    return {"name": "ci", "url": receiver.url, "headers": {"Authorization": ["Bearer t"]}}


async def running(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its senders running (ASGITransport runs no lifespan)."""
    assert state.notifier is not None
    task = asyncio.create_task(state.notifier.run())
    transport = httpx.ASGITransport(app=create_app(state, validate_responses=True))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield client
    finally:
        task.cancel()


@pytest.fixture
async def client(driver: StorageDriver, endpoint: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    async for c in running(make_state(driver, endpoint)):
        yield c


async def wait_count(receiver: Receiver, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    for _ in range(int(timeout / 0.02)):
        if len(receiver.events) >= n:
            return receiver.events
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(receiver.events)} events, wanted {n}: {receiver.events}")


async def test_a_push_then_pull_mount_and_deletes_each_produce_the_documented_events(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    helper = Helper(client)
    pushed = await helper.image("team/app", "v1", layers=1)
    events = await wait_count(receiver, 3)  # config, layer, manifest
    assert [e["action"] for e in events] == ["push"] * 3
    headers, _ = receiver.posts[0]
    assert headers["content-type"] == "application/vnd.docker.distribution.events.v1+json"
    assert headers["authorization"] == "Bearer t"
    blob, manifest = events[1], events[2]
    for e in events:
        assert set(e) == EVENT_KEYS
        assert set(e["request"]) == REQUEST_KEYS
        assert e["actor"] == {}
        assert e["source"]["addr"] == "node:5000" and e["source"]["instanceID"]
        assert e["timestamp"].endswith("Z")
    assert set(blob["target"]) == BLOB_TARGET
    assert blob["target"]["mediaType"] == "application/octet-stream"
    assert blob["request"]["method"] == "POST" and blob["request"]["host"] == "registry.test"
    assert blob["target"]["url"] == f"http://registry.test/v2/team/app/blobs/{blob['target']['digest']}"
    assert set(manifest["target"]) == MANIFEST_TARGET | {"tag"}
    assert manifest["target"] == {
        "mediaType": OCI_MANIFEST,
        "digest": pushed.digest,
        "size": len(pushed.content),
        "length": len(pushed.content),
        "repository": "team/app",
        "url": f"http://registry.test/v2/team/app/manifests/{pushed.digest}",
        "tag": "v1",
    }
    assert manifest["request"]["method"] == "PUT"

    layer = (await client.get(f"/v2/team/app/manifests/{pushed.digest}")).json()["layers"][0]
    assert (await client.get(f"/v2/team/app/blobs/{layer['digest']}")).status_code == 200
    mounted = await client.post(
        "/v2/team/other/blobs/uploads/", params={"mount": layer["digest"], "from": "team/app"}
    )
    assert mounted.status_code == 201
    assert (await client.delete("/v2/team/app/manifests/v1")).status_code == 202
    retagged = await client.put(
        "/v2/team/app/manifests/v2", content=pushed.content, headers={"Content-Type": OCI_MANIFEST}
    )
    assert retagged.status_code == 201
    assert (await client.delete(f"/v2/team/app/manifests/{pushed.digest}")).status_code == 202
    events = (await wait_count(receiver, 9))[3:]
    actions = [(e["action"], e["request"]["method"]) for e in events]
    assert actions == [
        ("pull", "GET"),
        ("pull", "GET"),
        ("mount", "POST"),
        ("delete", "DELETE"),
        ("push", "PUT"),
        ("delete", "DELETE"),
        ("delete", "DELETE"),
    ], actions
    pull_manifest, pull_blob, mount, untag, _, deleted, untagged = events
    assert "tag" not in pull_manifest["target"] and pull_manifest["target"]["digest"] == pushed.digest
    assert pull_blob["target"]["digest"] == layer["digest"] and pull_blob["target"]["size"] == layer["size"]
    assert mount["target"]["repository"] == "team/other"
    assert mount["target"]["fromRepository"] == "team/app"
    assert untag["target"] == {"repository": "team/app", "tag": "v1"}
    assert deleted["target"] == {"repository": "team/app", "digest": pushed.digest}
    assert untagged["target"] == {"repository": "team/app", "tag": "v2"}
    assert len({e["id"] for e in receiver.events}) == len(receiver.events)


async def test_a_blob_delete_and_a_pull_by_tag(client: httpx.AsyncClient, receiver: Receiver) -> None:
    helper = Helper(client)
    digest = await helper.blob("solo", b"one blob")
    pushed = await helper.image("solo", "latest", layers=0)
    assert (await client.get("/v2/solo/manifests/latest")).status_code == 200
    assert (await client.delete(f"/v2/solo/blobs/{digest}")).status_code == 202
    events = await wait_count(receiver, 5)
    pull, delete = events[3], events[4]
    assert pull["action"] == "pull" and pull["target"]["tag"] == "latest"
    assert pull["target"]["digest"] == pushed.digest
    assert delete["action"] == "delete" and delete["target"] == {"repository": "solo", "digest": digest}


async def test_nothing_is_emitted_for_a_failed_request(client: httpx.AsyncClient, receiver: Receiver) -> None:
    assert (await client.get("/v2/none/manifests/latest")).status_code == 404
    assert (await client.get(f"/v2/none/blobs/{sha256(b'x')}")).status_code == 404
    assert (await client.delete("/v2/none/manifests/latest")).status_code == 404
    await Helper(client).blob("after", b"marker")
    events = await wait_count(receiver, 1)
    await asyncio.sleep(0.2)
    assert [e["target"]["repository"] for e in receiver.events] == ["after"], events


async def test_ignored_actions_and_media_types_and_references(
    driver: StorageDriver, receiver: Receiver
) -> None:
    quiet = {
        "name": "quiet",
        "url": receiver.url,
        "ignore": {"actions": ["pull"]},
        "ignoredmediatypes": ["application/octet-stream"],
    }
    state = make_state(driver, quiet, refs=True)
    async for client in running(state):
        pushed = await Helper(client).image("refs", "v1", layers=2)
        assert (await client.get("/v2/refs/manifests/v1")).status_code == 200
        events = await wait_count(receiver, 1)
        await asyncio.sleep(0.3)
        assert len(receiver.events) == 1, receiver.events  # no blob pushes, no pull
        target = events[0]["target"]
        assert target["digest"] == pushed.digest
        assert [r["mediaType"] for r in target["references"]] == [
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.v1.tar",
        ]


async def test_the_outbox_is_written_before_the_answer_and_kept_while_the_endpoint_is_down(
    any_driver: StorageDriver, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = any_driver
    monkeypatch.setattr(sender_module, "RETRY_PAUSE", 0.01)
    receiver.stop()
    endpoint = {"name": "down", "url": receiver.url, "threshold": 2, "backoff": timedelta(seconds=0.1)}
    state = make_state(driver, endpoint)
    assert state.notifier is not None
    outbox = state.notifier.senders[0].outbox
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        for i in range(3):
            await Helper(client).blob("queued", b"blob %d" % i)
            assert len(outbox.names()) == i + 1  # in storage once the 201 is in hand, no sender running
        task = asyncio.create_task(state.notifier.run())
        try:
            await asyncio.sleep(0.5)  # failing against a closed port, with backoff
            status = state.notifier.status()[0]
            assert status["pending"] == 3 and status["failures"] >= 2
            assert status["last_failure"] is not None and status["last_success"] is None
            stored = notifications.delivery_status((endpoint,), driver)[0]  # what another process sees
            assert stored["pending"] == 3 and stored["failures"] >= 1 and stored["last_success"] is None
            assert stored["last_error"].startswith("ConnectError")
            receiver.start()
            events = await wait_count(receiver, 3)
            assert [e["target"]["digest"] for e in events] == [sha256(b"blob %d" % i) for i in range(3)]
            assert len(receiver.posts) == 1  # what waited goes in one envelope
            for _ in range(100):  # removed just after the receiver's 2xx
                if not outbox.names():
                    break
                await asyncio.sleep(0.02)
            status = state.notifier.status()[0]
            assert status["pending"] == 0 and status["last_success"] is not None
            stored = notifications.delivery_status((endpoint,), driver)[0]
            assert stored["pending"] == 0 and stored["failures"] == 0 and stored["last_success"] is not None
        finally:
            task.cancel()


async def test_beyond_maxpending_the_oldest_are_dropped_with_a_log_line_and_a_counter(
    driver: StorageDriver, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.stop()
    endpoint = {"name": "capped", "url": receiver.url, "maxpending": 2, "backoff": timedelta(seconds=5)}
    state = make_state(driver, endpoint)
    assert state.notifier is not None
    before = counters().dropped.labels("capped")._value.get()
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        for i in range(5):
            await Helper(client).blob("capped", b"blob %d" % i)
    receiver.start()
    caplog.set_level(logging.ERROR, "registry.notifications")
    task = asyncio.create_task(state.notifier.run())
    try:
        events = await wait_count(receiver, 2)
        assert [e["target"]["digest"] for e in events] == [sha256(b"blob %d" % i) for i in (3, 4)]
    finally:
        task.cancel()
    assert counters().dropped.labels("capped")._value.get() - before == 3
    assert any("3 undelivered envelope(s) dropped" in r.getMessage() for r in caplog.records)


def test_no_enabled_endpoint_means_no_notifier(driver: StorageDriver) -> None:
    state = make_state(driver, {"name": "off", "url": "http://127.0.0.1:9/", "disabled": True})
    assert state.notifier is None


async def test_a_push_by_digest_with_tag_parameters_has_one_push_event_per_tag(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    pushed = await Helper(client).image("tagged", None, layers=0)
    r = await client.put(
        f"/v2/tagged/manifests/{pushed.digest}",
        params=[("tag", "b"), ("tag", "a")],
        content=pushed.content,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert r.status_code == 201, r.text
    events = await wait_count(receiver, 4)  # config, manifest by digest alone, then one per tag
    assert "tag" not in events[1]["target"]
    assert [(e["action"], e["target"].get("tag")) for e in events[2:]] == [("push", "a"), ("push", "b")]
    assert {e["target"]["digest"] for e in events[1:]} == {pushed.digest}
