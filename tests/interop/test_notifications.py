"""notifications with real processes: ``registry serve`` (granian and uvicorn, two workers) and a receiver the
test starts on loopback.

Each action produces its events exactly once although two workers run a sender each; a receiver that is
down for a while (``NOTIFY_DOWN_SECONDS``, 3 s by default; the issue's 30 s with ``NOTIFY_DOWN_SECONDS=30``)
gets everything, in order, once it is back, even when the registry was killed (-9) meanwhile and restarted
(the restarted registry delivers them); two replicas on one S3 bucket deliver each event once.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from testkit import s3
from testkit.processes import Server, Spawner, free_port
from testkit.receiver import Receiver

pytestmark = pytest.mark.interop

DOWN_SECONDS = float(os.environ.get("NOTIFY_DOWN_SECONDS", "3"))
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def notifying(receiver: Receiver, **extra: Any) -> dict[str, Any]:
    endpoint = {"name": "ci", "url": receiver.url, "timeout": "1s", "threshold": 3, "backoff": "200ms"}
    return {"notifications": {"endpoints": [{**endpoint, **extra}]}}


def fresh(server: Server) -> httpx.Client:
    """A client whose every request opens a new connection: the two workers both serve some."""
    return server.client(headers={"Connection": "close"})


def push_image(server: Server, name: str, tag: str, seed: str) -> tuple[str, bytes, list[str]]:
    """Config and one layer (monolithic POSTs), then the manifest by tag: (digest, manifest, blob digests)."""
    config = json.dumps({"seed": seed}).encode()
    layer = f"layer {seed}".encode()
    with fresh(server) as client:
        for blob in (config, layer):
            r = client.post(f"/v2/{name}/blobs/uploads/", params={"digest": sha(blob)}, content=blob)
            assert r.status_code == 201, r.text
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha(config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": sha(layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        r = client.put(
            f"/v2/{name}/manifests/{tag}", content=manifest, headers={"Content-Type": OCI_MANIFEST}
        )
        assert r.status_code == 201, r.text
    return sha(manifest), manifest, [sha(config), sha(layer)]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (e["action"], e["target"]["repository"], e["target"].get("tag") or e["target"].get("digest", ""))
        for e in events
    ]


def exactly_once(receiver: Receiver, expected: int) -> list[dict[str, Any]]:
    """Wait for ``expected`` events, then a little longer: no duplicate, no extra."""
    receiver.wait_count(expected)
    time.sleep(0.8)  # longer than a sender's poll and linger: a second delivery would have arrived
    events = receiver.events
    ids = Counter(e["id"] for e in events)
    assert len(events) == expected and max(ids.values()) == 1, summary(events)
    return events


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_each_action_is_delivered_once_with_two_workers(spawn: Spawner, server: str) -> None:
    with Receiver() as receiver:
        registry = spawn.ours(overrides=notifying(receiver), server=server, workers=2)
        digest, manifest, blobs = push_image(registry, "n/app", "v1", "one")
        with fresh(registry) as client:
            pulled = client.get("/v2/n/app/manifests/v1", headers={"X-Request-Id": "pull-1"})
            assert pulled.status_code == 200
            assert client.get(f"/v2/n/app/blobs/{blobs[1]}").status_code == 200
            r = client.post("/v2/n/copy/blobs/uploads/", params={"mount": blobs[1], "from": "n/app"})
            assert r.status_code == 201, r.text
            assert client.delete("/v2/n/app/manifests/v1").status_code == 202
            assert client.delete(f"/v2/n/app/manifests/{digest}").status_code == 202
        events = exactly_once(receiver, 8)
        assert summary(events) == [
            ("push", "n/app", blobs[0]),
            ("push", "n/app", blobs[1]),
            ("push", "n/app", "v1"),
            ("pull", "n/app", "v1"),
            ("pull", "n/app", blobs[1]),
            ("mount", "n/copy", blobs[1]),
            ("delete", "n/app", "v1"),
            ("delete", "n/app", digest),
        ]
        assert events[2]["target"]["size"] == len(manifest)
        assert events[2]["target"]["url"] == f"{registry.url}/v2/n/app/manifests/{digest}"
        assert events[5]["target"]["fromRepository"] == "n/app"
        assert events[3]["request"]["id"] == pulled.headers["X-Request-Id"] == "pull-1"  # the logs' request id
        assert {e["request"]["useragent"] for e in events} == {f"python-httpx/{httpx.__version__}"}
        assert len({e["source"]["instanceID"] for e in events}) <= 2  # one per worker

        # Several clients at once: every push delivered, once.
        with ThreadPoolExecutor(6) as pool:
            pushed = list(pool.map(lambda i: push_image(registry, f"n/par{i}", "latest", f"p{i}"), range(6)))
        events = exactly_once(receiver, 8 + 6 * 3)[8:]
        assert {
            (e["target"]["repository"], e["target"].get("tag")) for e in events if e["target"].get("tag")
        } == {(f"n/par{i}", "latest") for i in range(6)}
        for i, (digest, _, _) in enumerate(pushed):  # per repository, in order: blobs before the manifest
            mine = [e for e in events if e["target"]["repository"] == f"n/par{i}"]
            assert mine[-1]["target"]["digest"] == digest, summary(mine)


def test_a_receiver_down_then_kill_9_of_the_registry_loses_no_event(spawn: Spawner) -> None:
    """Pushes acknowledged while the receiver is down, the registry killed (-9) while they wait, restarted on
    the other server: the receiver, once up, gets every event, once, in order."""
    receiver = Receiver()  # down: nothing can be delivered before the kill
    debug = f"127.0.0.1:{free_port()}"
    overrides = {**notifying(receiver), "http": {"debug": {"addr": debug}}}
    first = spawn.ours("first", overrides, server="granian", workers=2)
    pushed = [push_image(first, "down/app", f"t{i}", f"d{i}") for i in range(3)]
    time.sleep(DOWN_SECONDS)
    assert "delivery failed" in first.log_text(tail=None)
    (status,) = httpx.get(f"http://{debug}/debug/notifications").json()  # the supervisor reads storage
    assert status["endpoint"] == "ci" and status["pending"] == 9, status
    assert status["last_failure"] is not None and status["last_success"] is None, status
    os.killpg(first.pid, signal.SIGKILL)
    first.proc.wait(10)
    with receiver:
        spawn.ours("second", overrides, server="uvicorn", workers=2, root=first.root)
        events = exactly_once(receiver, 9)
    expected = []
    for i, (_, _, blobs) in enumerate(pushed):
        expected += [
            ("push", "down/app", blobs[0]),
            ("push", "down/app", blobs[1]),
            ("push", "down/app", f"t{i}"),
        ]
    assert summary(events) == expected
    assert [e["target"]["digest"] for e in events if e["target"].get("tag")] == [p[0] for p in pushed]


def test_two_replicas_on_one_s3_bucket_deliver_each_event_once(
    spawn: Spawner, session_moto: s3.MotoS3
) -> None:
    with Receiver() as receiver:
        shared = {
            **notifying(receiver),
            "storage": {"filesystem": None, "s3": session_moto.params(session_moto.bucket("notify"))},
            "http": {"secret": "notify-replicas"},
        }
        a = spawn.ours("a", shared, server="granian", workers=1)
        b = spawn.ours("b", shared, server="uvicorn", workers=1)
        for i in range(3):
            push_image(a if i % 2 else b, "rep/app", f"r{i}", f"rep{i}")
        events = exactly_once(receiver, 9)
        assert [e["target"]["tag"] for e in events if e["target"].get("tag")] == ["r0", "r1", "r2"]
        assert len({e["source"]["instanceID"] for e in events}) == 2
