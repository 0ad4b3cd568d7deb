"""The same request sequences against Debian's docker-registry and ours: status codes, error codes and key
headers agree, except for the intended differences listed (with reasons) in ``testkit.differences``."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from testkit.differences import INTENDED
from testkit.processes import Server

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
KEY_HEADERS = ("docker-content-digest", "docker-distribution-api-version")


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def codes(r: httpx.Response) -> list[str]:
    try:
        return [e["code"] for e in r.json()["errors"]]
    except (ValueError, KeyError, TypeError):
        return []


def with_query(location: str, **params: str) -> str:
    """Append to a Location, keeping its query (the reference signs its upload state in ``_state``)."""
    extra = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{location}{'&' if '?' in location else '?'}{extra}"


class Side:
    """One server, with a repository name of its own so the session-wide servers can be shared."""

    def __init__(self, server: Server) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=30)
        self.repo = f"diff/{uuid.uuid4().hex[:8]}"

    def upload(self, data: bytes) -> httpx.Response:
        start = self.client.post(f"/v2/{self.repo}/blobs/uploads/")
        assert start.status_code == 202, start.text
        return self.client.put(
            with_query(start.headers["location"], digest=digest(data)),
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    def image(self, tag: str, seed: bytes = b"") -> tuple[str, bytes]:
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed.hex()}).encode()
        layer = b"layer" + seed
        for blob in (config, layer):
            assert self.upload(blob).status_code == 201
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": DOCKER_CONFIG, "digest": digest(config), "size": len(config)},
                "layers": [{"mediaType": DOCKER_LAYER, "digest": digest(layer), "size": len(layer)}],
            }
        ).encode()
        r = self.client.put(
            f"/v2/{self.repo}/manifests/{tag}", content=manifest, headers={"Content-Type": DOCKER_MANIFEST}
        )
        assert r.status_code == 201, r.text
        return digest(manifest), manifest


@pytest.fixture
def pair(ours: Server, reference: Server) -> Iterator[tuple[Side, Side]]:
    a, b = Side(ours), Side(reference)
    yield a, b
    a.client.close()
    b.client.close()


def same(a: httpx.Response, b: httpx.Response, *headers: str, skip: tuple[str, ...] = ()) -> None:
    assert a.status_code == b.status_code, (a.request.url, a.text, b.text)
    assert codes(a) == codes(b), (a.text, b.text)
    for header in (*KEY_HEADERS, *headers):
        if header in skip:
            continue
        assert a.headers.get(header) == b.headers.get(header), header


def intended(key: str, a: httpx.Response, b: httpx.Response) -> None:
    diff = INTENDED[key]
    assert a.status_code == diff.ours, (key, a.text)
    assert b.status_code == diff.reference, (key, b.text)
    if diff.ours_code:
        assert diff.ours_code in codes(a), a.text
    if diff.reference_code:
        assert diff.reference_code in codes(b), b.text


ACCEPT = {"Accept": DOCKER_MANIFEST}


def test_pull_workflow_agrees(pair: tuple[Side, Side]) -> None:
    a, b = pair
    (da, ma), (db, mb) = a.image("v1"), b.image("v1")
    assert (da, ma) == (db, mb)
    layer = digest(b"layer")
    for path, headers, extra in [
        ("/v2/", {}, ()),
        ("/v2/{repo}/manifests/v1", ACCEPT, ("content-type", "content-length", "etag")),
        (f"/v2/{{repo}}/manifests/{da}", ACCEPT, ("content-type", "content-length")),
        ("/v2/{repo}/manifests/nope", ACCEPT, ()),
        (f"/v2/{{repo}}/blobs/{layer}", {}, ("content-length",)),
        (f"/v2/{{repo}}/blobs/{digest(b'absent')}", {}, ()),
    ]:
        for method in ("GET", "HEAD"):
            ra = a.client.request(method, path.format(repo=a.repo), headers=headers)
            rb = b.client.request(method, path.format(repo=b.repo), headers=headers)
            same(ra, rb, *extra)
            if method == "GET" and ra.status_code == 200:
                assert ra.content == rb.content


def test_push_workflow_agrees(pair: tuple[Side, Side]) -> None:
    a, b = pair
    sa, sb = a.client.post(f"/v2/{a.repo}/blobs/uploads/"), b.client.post(f"/v2/{b.repo}/blobs/uploads/")
    same(sa, sb, "range", "content-length")
    assert "docker-upload-uuid" in sa.headers and "docker-upload-uuid" in sb.headers
    chunk = {"Content-Type": "application/octet-stream", "Content-Range": "0-2"}
    pa = a.client.patch(sa.headers["location"], content=b"abc", headers=chunk)
    pb = b.client.patch(sb.headers["location"], content=b"abc", headers=chunk)
    same(pa, pb, "range")
    ga, gb = a.client.get(pa.headers["location"]), b.client.get(pb.headers["location"])
    same(ga, gb, "range")
    wrong = {"digest": digest(b"other")}
    ca = a.client.put(with_query(pa.headers["location"], **wrong))
    cb = b.client.put(with_query(pb.headers["location"], **wrong))
    same(ca, cb)
    assert codes(ca) == ["DIGEST_INVALID"]
    ua, ub = a.upload(b"abc"), b.upload(b"abc")
    same(ua, ub, "content-length")
    data = b"monolithic"
    ma = a.client.post(
        f"/v2/{a.repo}/blobs/uploads/",
        params={"digest": digest(data)},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    mb = b.client.post(
        f"/v2/{b.repo}/blobs/uploads/",
        params={"digest": digest(data)},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    intended("monolithic-post", ma, mb)


def test_cancel_and_mount_agree(pair: tuple[Side, Side]) -> None:
    a, b = pair
    sa, sb = a.client.post(f"/v2/{a.repo}/blobs/uploads/"), b.client.post(f"/v2/{b.repo}/blobs/uploads/")
    da, db = a.client.delete(sa.headers["location"]), b.client.delete(sb.headers["location"])
    same(da, db)
    same(a.client.get(sa.headers["location"]), b.client.get(sb.headers["location"]))
    assert a.upload(b"mounted").status_code == b.upload(b"mounted").status_code == 201
    target_a, target_b = a.repo + "-m", b.repo + "-m"
    query = {"mount": digest(b"mounted")}
    ra = a.client.post(f"/v2/{target_a}/blobs/uploads/", params={**query, "from": a.repo})
    rb = b.client.post(f"/v2/{target_b}/blobs/uploads/", params={**query, "from": b.repo})
    same(ra, rb)
    assert ra.status_code == 201
    missing = {"mount": digest(b"never pushed"), "from": a.repo}
    fa = a.client.post(f"/v2/{target_a}/blobs/uploads/", params=missing)
    fb = b.client.post(f"/v2/{target_b}/blobs/uploads/", params={**missing, "from": b.repo})
    same(fa, fb)
    assert fa.status_code == 202


def test_discovery_agrees_except_n(pair: tuple[Side, Side]) -> None:
    a, b = pair
    for tag in ("b", "a", "c"):
        a.image(tag), b.image(tag)
    ta, tb = a.client.get(f"/v2/{a.repo}/tags/list"), b.client.get(f"/v2/{b.repo}/tags/list")
    same(ta, tb)
    assert sorted(ta.json()["tags"]) == sorted(tb.json()["tags"]) == ["a", "b", "c"]
    assert ta.json()["tags"] == ["a", "b", "c"]
    na, nb = a.client.get(f"/v2/{a.repo}/tags/list?n=1"), b.client.get(f"/v2/{b.repo}/tags/list?n=1")
    intended("tags-n", na, nb)
    assert na.json()["tags"] == ["a"] and "next" in na.headers["link"]
    assert len(nb.json()["tags"]) == 3
    unknown = "/v2/diff/never-pushed-{}/tags/list"
    same(a.client.get(unknown.format(1)), b.client.get(unknown.format(1)))


def test_management_agrees_except_tag_delete(pair: tuple[Side, Side]) -> None:
    a, b = pair
    (da, _), (db, _) = a.image("keep"), b.image("keep")
    a.image("gone", seed=b"2"), b.image("gone", seed=b"2")
    intended(
        "delete-tag",
        a.client.delete(f"/v2/{a.repo}/manifests/gone"),
        b.client.delete(f"/v2/{b.repo}/manifests/gone"),
    )
    ra, rb = a.client.delete(f"/v2/{a.repo}/manifests/{da}"), b.client.delete(f"/v2/{b.repo}/manifests/{db}")
    same(ra, rb)
    same(
        a.client.get(f"/v2/{a.repo}/manifests/{da}", headers=ACCEPT),
        b.client.get(f"/v2/{b.repo}/manifests/{db}", headers=ACCEPT),
    )
    layer = digest(b"layer")
    ra, rb = a.client.delete(f"/v2/{a.repo}/blobs/{layer}"), b.client.delete(f"/v2/{b.repo}/blobs/{layer}")
    intended("blob-delete-digest-header", ra, rb)
    same(ra, rb, skip=("docker-content-digest",))
    assert ra.headers["docker-content-digest"] == layer and "docker-content-digest" not in rb.headers
    same(a.client.get(f"/v2/{a.repo}/blobs/{layer}"), b.client.get(f"/v2/{b.repo}/blobs/{layer}"))


def test_intended_error_differences(pair: tuple[Side, Side]) -> None:
    a, b = pair
    a.image("v1"), b.image("v1")
    intended(
        "referrers",
        a.client.get(f"/v2/{a.repo}/referrers/{digest(b'x')}"),
        b.client.get(f"/v2/{b.repo}/referrers/{digest(b'x')}"),
    )
    intended(
        "invalid-name", a.client.get("/v2/Diff/Upper/tags/list"), b.client.get("/v2/Diff/Upper/tags/list")
    )
    intended(
        "malformed-digest",
        a.client.get(f"/v2/{a.repo}/manifests/sha256:abc", headers=ACCEPT),
        b.client.get(f"/v2/{b.repo}/manifests/sha256:abc", headers=ACCEPT),
    )
    sa, sb = a.client.post(f"/v2/{a.repo}/blobs/uploads/"), b.client.post(f"/v2/{b.repo}/blobs/uploads/")
    late = {"Content-Type": "application/octet-stream", "Content-Range": "5-7"}
    intended(
        "chunk-out-of-order",
        a.client.patch(sa.headers["location"], content=b"abc", headers=late),
        b.client.patch(sb.headers["location"], content=b"abc", headers=late),
    )
