"""The event records, envelope and endpoint settings: pure values, checked against distribution's documented
example (docs/about/notifications.md) and ``notifications/endpoint.go``'s defaults."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from registry_impl.notifications import targets
from registry_impl.notifications.endpoints import Endpoint
from registry_impl.notifications.events import RequestRecord, SourceRecord, Target, envelope, event
from registry_impl.notifications.notifier import outbox_status
from registry_impl.notifications.outbox import Outbox
from registry_impl.storage.driver.base import check_path
from registry_impl.storage.driver.inmemory import InMemoryDriver

DIGEST = "sha256:" + "f" * 64
REQUEST = RequestRecord(
    "6df24a34",
    "192.168.64.11:42961",
    "192.168.100.227:5000",
    "GET",
    "curl/7.38.0",
    base_url="http://192.168.100.227:5000",
)
SOURCE = SourceRecord("xtal.local:5000", "a53db899")


def test_a_manifest_pull_event_has_the_documented_shape() -> None:
    target = targets.manifest(
        "pull", "hello-world", DIGEST, "application/vnd.docker.distribution.manifest.v2+json", 708, "latest"
    )
    e = event(target, REQUEST, SOURCE)
    assert list(e) == ["id", "timestamp", "action", "target", "request", "actor", "source"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e["timestamp"])
    assert e["action"] == "pull"
    assert e["target"] == {
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "digest": DIGEST,
        "size": 708,
        "length": 708,
        "repository": "hello-world",
        "url": f"http://192.168.100.227:5000/v2/hello-world/manifests/{DIGEST}",
        "tag": "latest",
    }
    assert e["request"] == {
        "id": "6df24a34",
        "addr": "192.168.64.11:42961",
        "host": "192.168.100.227:5000",
        "method": "GET",
        "useragent": "curl/7.38.0",
    }
    assert e["actor"] == {}
    assert e["source"] == {"addr": "xtal.local:5000", "instanceID": "a53db899"}
    assert json.loads(envelope([e])) == {"events": [e]}


def test_empty_fields_are_left_out_as_go_omitempty_does() -> None:
    e = event(targets.tag_deleted("r", "v1"), RequestRecord("i", "", "", "DELETE", "", actor="alice"), SOURCE)
    assert e["target"] == {"repository": "r", "tag": "v1"}
    assert e["request"] == {
        "id": "i",
        "method": "DELETE",
        "useragent": "",
    }  # id, method, useragent: no omitempty
    assert e["actor"] == {"name": "alice"}
    mount = targets.blob("mount", "b", DIGEST, 3, "a")
    assert event(mount, REQUEST, SOURCE)["target"]["fromRepository"] == "a"
    assert event(mount, REQUEST, SOURCE)["target"]["mediaType"] == "application/octet-stream"


def test_endpoint_defaults_are_distributions_and_maxpending_is_ours() -> None:
    endpoint = Endpoint.from_config({"name": "a", "url": "http://a/"})
    assert (endpoint.timeout, endpoint.threshold, endpoint.backoff, endpoint.max_pending) == (
        1.0,
        10,
        1.0,
        10_000,
    )
    configured = Endpoint.from_config(
        {
            "name": "b",
            "url": "http://b/",
            "timeout": timedelta(milliseconds=500),
            "threshold": 3,
            "backoff": timedelta(seconds=2),
            "maxpending": 5,
            "headers": {"X-A": ["1", "2"]},
        }
    )
    assert (configured.timeout, configured.threshold, configured.backoff, configured.max_pending) == (
        0.5,
        3,
        2.0,
        5,
    )
    assert configured.headers == {"X-A": ("1", "2")}


@pytest.mark.parametrize("name", ["ci", "a b/c", "../x", "_status", "é" * 100, ""])
def test_an_endpoint_key_is_a_valid_distinct_path_component(name: str) -> None:
    key = Endpoint.from_config({"name": name, "url": "http://x/"}).key
    check_path(f"/docker/registry/v2/_events/{key}")
    assert not key.startswith((".", "_")) and key != "status"
    assert Endpoint.from_config({"name": name + "x", "url": "http://x/"}).key != key


def test_ignore_by_action_and_by_media_type() -> None:
    endpoint = Endpoint.from_config(
        {
            "name": "a",
            "url": "http://a/",
            "ignoredmediatypes": ["application/octet-stream"],
            "ignore": {"mediatypes": ["application/x"], "actions": ["pull"]},
        }
    )
    assert not endpoint.wants("pull") and endpoint.wants("push")
    assert not endpoint.takes(targets.blob("push", "r", DIGEST, 1))
    assert not endpoint.takes(Target("push", "r", "manifest", DIGEST, "application/x", 1))
    assert endpoint.takes(
        targets.manifest("push", "r", DIGEST, "application/vnd.oci.image.manifest.v1+json", 1, None)
    )
    assert endpoint.takes(targets.manifest_deleted("r", DIGEST))  # a delete has no media type


def test_an_endpoint_url_is_shown_without_its_password_and_its_outbox_stays_put() -> None:
    """A webhook URL may carry credentials (``https://user:secret@host/hook``): logs, ``/debug/notifications``
    and metric labels show it redacted, and an endpoint without a ``name`` is named by the redacted URL while
    its outbox directory is still derived from the whole URL (where earlier versions put pending envelopes)."""
    url = "https://hooks:s3cret@example.test:8443/hook?x=1"
    unnamed = Endpoint.from_config({"url": url})
    assert unnamed.shown_url == unnamed.name == "https://hooks:xxxxx@example.test:8443/hook?x=1"
    assert unnamed.url == url  # deliveries still authenticate
    assert unnamed.key == Endpoint(name=url, url=url).key
    status = outbox_status(unnamed, Outbox(InMemoryDriver(), unnamed.key, "status"))
    assert "s3cret" not in json.dumps(status) and status["url"] == unnamed.shown_url
    named = Endpoint.from_config({"name": "ci", "url": url})
    assert named.name == "ci" and named.key == Endpoint(name="ci", url=url).key
    plain = Endpoint.from_config({"url": "http://example.test/hook"})
    assert plain.shown_url == plain.name == "http://example.test/hook"
