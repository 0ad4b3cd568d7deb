"""The pull-through cache with real processes: Debian's ``docker-registry`` (htpasswd in front) as the
upstream, ours (granian and uvicorn, two workers) as the proxy; requests counted in the upstream's log.

skopeo pulls an image and a multi-arch index through the proxy byte-identical, and the second pull makes
no upstream blob request; concurrent pulls of one blob make one upstream fetch; a transfer cut mid-blob
leaves nothing behind; with the upstream gone, what is cached still pulls and the rest answers 503 naming
the upstream, quickly; tags are revalidated with a HEAD after ttl; two upstreams by prefix; pushes into
a proxied namespace are refused and a local namespace stays writable.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry_client import Credential, RegistryAuth
from registry_client.bodies import MAX_BODY_SIZE
from testkit.oci_layout import OciLayout
from testkit.processes import Server, Spawner, start_ours, start_reference
from testkit.proxy import CuttingProxy
from testkit.skopeo import Skopeo
from testkit.threaded import serve
from testkit.token_server import (
    ISSUER,
    realm,
    signing_certificate,
    start_token_server,
    token_server_command,
    write_htpasswd,
)

USER, PASSWORD = "mirror", "mirror-pw"
#: Past the client's bound on bodies read whole (``MAX_BODY_SIZE``): a blob relayed as one was cut at 16 MiB.
BIG = MAX_BODY_SIZE + (8 << 20)
TTL, TTL_S = "2s", 2.0
FIELD = re.compile(r'(http\.request\.method|http\.request\.uri|http\.response\.status)=("[^"]*"|\S+)')
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def upstream_requests(upstream: Server) -> list[tuple[str, str, int]]:
    """(method, path, status) of every request the upstream completed, from its log."""
    found = []
    for line in upstream.log_text(tail=None).splitlines():
        if "response completed" not in line:
            continue
        fields = {k: v.strip('"') for k, v in FIELD.findall(line)}
        if "http.request.uri" in fields:
            found.append(
                (
                    fields["http.request.method"],
                    fields["http.request.uri"],
                    int(fields["http.response.status"]),
                )
            )
    return found


def blob_gets(upstream: Server, digest: str = "") -> int:
    return sum(
        1
        for m, path, status in upstream_requests(upstream)
        if m == "GET" and "/blobs/" + digest in path and status == 200
    )


def start_upstream(tmp: Path) -> Server:
    tmp.mkdir(parents=True, exist_ok=True)
    users = write_htpasswd(tmp / "users.htpasswd", {USER: PASSWORD})
    auth = {"auth": {"htpasswd": {"realm": "upstream", "path": str(users)}}, "log": {"level": "info"}}
    return start_reference(tmp / "upstream", auth)


def proxy_config(*upstreams: tuple[str, Server, str]) -> dict[str, Any]:
    return {
        "proxy": {
            "upstreams": [
                {
                    "prefix": prefix,
                    "remoteurl": server.url,
                    "username": USER,
                    "password": PASSWORD,
                    "ttl": ttl,
                }
                for prefix, server, ttl in upstreams
            ]
        }
    }


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> OciLayout:
    built = OciLayout(tmp_path_factory.mktemp("proxy-layout") / "src", seed=17)
    built.add_image("single", layers=3)
    built.add_index("multi", layers=1)
    built.add_image("other", layers=1)
    return built


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, layout: OciLayout) -> Iterator[Server]:
    server = start_upstream(tmp_path_factory.mktemp("proxy-upstream"))
    try:
        with server.client(auth=(USER, PASSWORD)) as client:
            for tag in ("single", "multi"):
                layout.push(client, "lib/app", tag)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def token_upstream(tmp_path_factory: pytest.TempPathFactory, layout: OciLayout) -> Iterator[Server]:
    """docker-registry behind Bearer tokens from ``registry-token-server`` (plain HTTP on loopback)."""
    if token_server_command() is None:
        pytest.skip("the `registry-token-server` console script is not installed (pip install -e .)")
    tmp = tmp_path_factory.mktemp("proxy-token")
    acl = [{"account": USER, "repository": "**", "actions": ["*"]}]
    tokens = start_token_server(tmp / "tokens", users={USER: PASSWORD}, acl=acl, service="upstream")
    token = {"realm": realm(tokens), "service": "upstream", "issuer": ISSUER}
    token["rootcertbundle"] = str(signing_certificate(tokens))
    server = start_reference(tmp / "upstream", {"auth": {"token": token}, "log": {"level": "info"}})
    try:
        auth = RegistryAuth(Credential(USER, PASSWORD))
        with httpx.Client(base_url=server.url, auth=auth, timeout=30) as client:
            layout.push(client, "lib/app", "single")
        yield server
    finally:
        server.stop()
        tokens.stop()


@pytest.fixture(scope="module", params=["granian", "uvicorn"])
def proxy(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    upstream: Server,
    token_upstream: Server,
) -> Iterator[Server]:
    server = start_ours(
        tmp_path_factory.mktemp(f"proxy-{request.param}"),
        proxy_config(("hub", upstream, "1h"), ("tok", token_upstream, "1h")),
        server=request.param,
        workers=2
        if request.param == "granian"
        else 1,  # single flight across workers: granian with two shows it
    )
    try:
        yield server
    finally:
        server.stop()


def test_skopeo_pulls_an_image_and_an_index_byte_identical_and_the_second_pull_is_local(
    proxy: Server, upstream: Server, skopeo: Skopeo, layout: OciLayout, tmp_path: Path
) -> None:
    repo = "hub/lib/app"
    for tag, options in (("single", ()), ("multi", ("--all",))):
        assert skopeo.inspect_raw(proxy.ref(repo, tag)) == layout.read_blob(layout.refs()[tag].digest)
        skopeo.copy(proxy.ref(repo, tag), f"oci:{tmp_path / tag}:{tag}", *options)
        pulled = OciLayout(tmp_path / tag)
        digest = pulled.refs()[tag].digest
        assert digest == layout.refs()[tag].digest
        for blob in layout.blob_digests(digest):
            assert pulled.read_blob(blob) == layout.read_blob(blob)
    before = blob_gets(upstream)
    for tag, options in (("single", ()), ("multi", ("--all",))):
        skopeo.copy(proxy.ref(repo, tag), f"oci:{tmp_path / ('again-' + tag)}:{tag}", *options)
    assert blob_gets(upstream) == before


def test_an_upstream_behind_bearer_tokens(
    proxy: Server, skopeo: Skopeo, layout: OciLayout, tmp_path: Path
) -> None:
    """The proxy answers the upstream's Bearer challenge with the configured credentials (token realm)."""
    assert skopeo.list_tags(f"docker://{proxy.host}/tok/lib/app") == ["single"]  # the upstream's
    skopeo.copy(proxy.ref("tok/lib/app", "single"), f"oci:{tmp_path / 'tok'}:v1")
    pulled = OciLayout(tmp_path / "tok")
    assert pulled.refs()["v1"].digest == layout.refs()["single"].digest
    for blob in layout.blob_digests(layout.refs()["single"].digest):
        assert pulled.read_blob(blob) == layout.read_blob(blob)


def test_concurrent_pulls_of_one_blob_make_one_upstream_fetch(proxy: Server, upstream: Server) -> None:
    data = os.urandom(BIG)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with upstream.client(auth=(USER, PASSWORD)) as client:
        r = client.post("/v2/lib/big/blobs/uploads/")
        location = r.headers["Location"] + f"&digest={digest}"
        assert client.put(location, content=data).status_code == 201

    def pull(_: int) -> str:
        with proxy.client() as client:
            r = client.get(f"/v2/hub/lib/big/blobs/{digest}")
            assert r.status_code == 200, r.text
            return "sha256:" + hashlib.sha256(r.content).hexdigest()

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(pull, range(8))) == {digest}
    assert blob_gets(upstream, digest) == 1


def test_pushes_deletes_and_uploads_into_a_proxied_namespace_are_refused(
    proxy: Server, skopeo: Skopeo, layout: OciLayout
) -> None:
    with proxy.client() as client:
        manifest = layout.read_blob(layout.refs()["other"].digest)
        for method, path, content in (
            ("POST", "/v2/hub/lib/app/blobs/uploads/", b""),
            ("PUT", "/v2/hub/lib/app/manifests/pushed", manifest),
            ("DELETE", "/v2/hub/lib/app/manifests/single", b""),
            ("DELETE", f"/v2/hub/lib/app/blobs/{layout.refs()['single'].digest}", b""),
        ):
            media_type = (
                "application/vnd.oci.image.manifest.v1+json" if content else "application/octet-stream"
            )
            r = client.request(method, path, headers={"Content-Type": media_type}, content=content)
            assert r.status_code == 405, (method, path, r.status_code, r.text)
            assert r.json()["errors"][0]["code"] == "UNSUPPORTED"
        done = skopeo.run(
            "copy",
            "--dest-tls-verify=false",
            f"oci:{layout.path}:other",
            proxy.ref("hub/lib/pushed", "v1"),
            check=False,
        )
        assert done.returncode != 0
        # Everything outside the proxied prefixes is an ordinary, writable registry.
        skopeo.copy(f"oci:{layout.path}:other", proxy.ref("local/app", "v1"))
        assert client.get("/v2/local/app/manifests/v1", headers={"Accept": ACCEPT}).status_code == 200
        # A digest alone does not reach a local repository's blob under a proxied name the upstream lacks.
        layer = layout.layer_digests(layout.refs()["other"].digest)[0]
        assert client.get(f"/v2/local/app/blobs/{layer}").status_code == 200
        r = client.get(f"/v2/hub/lib/app/blobs/{layer}")
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "BLOB_UNKNOWN", r.text


def _push_blob(server: Server, repository: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with server.client(auth=(USER, PASSWORD)) as client:
        r = client.post(f"/v2/{repository}/blobs/uploads/")
        assert client.put(r.headers["Location"] + f"&digest={digest}", content=data).status_code == 201
    return digest


def _manifest(client: httpx.Client, path: str) -> httpx.Response:
    return client.get(path, headers={"Accept": ACCEPT})


# On granian only (the suite's time budget): what differs between the servers (streaming, several workers,
# single flight) is tested on both above.
@pytest.mark.parametrize("server", ["granian"])
def test_two_upstreams_a_cut_transfer_ttl_revalidation_an_outage_and_expiry(
    server: str, spawn: Spawner, skopeo: Skopeo, layout: OciLayout, tmp_path: Path
) -> None:
    first, second = start_upstream(tmp_path / "a"), start_upstream(tmp_path / "b")
    spawn.servers += [first, second]
    cutter = CuttingProxy(first.port, cut_after=BIG // 2, direction="down")
    cut = Server("cut", cutter.port, first.proc, first.root, first.log)
    with first.client(auth=(USER, PASSWORD)) as client:
        layout.push(client, "lib/app", "single")
    with second.client(auth=(USER, PASSWORD)) as client:
        other = layout.push(client, "lib/other", "other")
    big = os.urandom(BIG)
    big_digest = _push_blob(first, "lib/big", big)
    proxy = spawn.ours(
        "proxy",
        proxy_config(("a", first, TTL), ("b", second, TTL), ("cut", cut, TTL)),
        server=server,
    )
    v2 = proxy.root / "docker" / "registry" / "v2"
    try:
        with proxy.client() as client:
            # Two upstreams by prefix: each repository comes from its own upstream only.
            skopeo.copy(proxy.ref("a/lib/app", "single"), f"oci:{tmp_path / 'a-app'}:v1")
            skopeo.copy(proxy.ref("b/lib/other", "other"), f"oci:{tmp_path / 'b-other'}:v1")
            assert not any("lib/other" in path for _, path, _ in upstream_requests(first))
            assert not any("lib/app" in path for _, path, _ in upstream_requests(second))
            assert _manifest(client, "/v2/b/lib/app/manifests/single").status_code == 404

            # A transfer cut mid-blob reaches the client cut short and leaves nothing behind.
            with pytest.raises(httpx.HTTPError):
                client.get(f"/v2/cut/lib/big/blobs/{big_digest}")
            assert cutter.cuts == 1
            hex_ = big_digest.split(":")[1]
            assert not (v2 / "blobs" / "sha256" / hex_[:2] / hex_).exists()
            assert not list((v2 / "repositories" / "cut" / "lib" / "big").glob("_uploads/*"))
            r = client.get(f"/v2/cut/lib/big/blobs/{big_digest}")
            assert r.status_code == 200 and r.content == big

            # After ttl, a HEAD finds where a tag points now; within ttl it is served as stored.
            def manifest_requests() -> list[tuple[str, str, int]]:
                time.sleep(0.3)  # the upstream writes its log line after answering
                return [r for r in upstream_requests(first) if "/manifests/" in r[1]]

            seen = len(manifest_requests())
            with first.client(auth=(USER, PASSWORD)) as push:
                moved = layout.push(push, "lib/app", "other")
                r = push.put(
                    "/v2/lib/app/manifests/single",
                    content=layout.read_blob(moved),
                    headers={"Content-Type": layout.refs()["other"].media_type},
                )
                assert r.status_code == 201
            time.sleep(TTL_S + 0.1)
            r = _manifest(client, "/v2/a/lib/app/manifests/single")
            assert r.headers["Docker-Content-Digest"] == moved
            assert ("HEAD", "/v2/lib/app/manifests/single", 200) in manifest_requests()[seen:]
            seen = len(manifest_requests())
            for _ in range(3):
                assert (
                    _manifest(client, "/v2/a/lib/app/manifests/single").headers["Docker-Content-Digest"]
                    == moved
                )
            assert len(manifest_requests()) == seen
            for blob in layout.blob_digests(moved):  # the moved image's blobs, cached before the outage
                assert client.get(f"/v2/a/lib/app/blobs/{blob}").status_code == 200

            # The upstream gone: what is cached still pulls (and does not expire), a stale tag from its last
            # known value...
            first.stop()
            time.sleep(TTL_S + 0.1)
            skopeo.copy(proxy.ref("a/lib/app", "single"), f"oci:{tmp_path / 'a-outage'}:v1")
            assert OciLayout(tmp_path / "a-outage").refs()["v1"].digest == moved
            # ...and what is not cached answers 503 naming the upstream, without hanging.
            for path in ("/v2/a/lib/app/manifests/never", f"/v2/a/lib/app/blobs/sha256:{'0' * 64}"):
                started = time.monotonic()
                r = _manifest(client, path)
                assert time.monotonic() - started < 10
                assert r.status_code == 503, r.text
                error = r.json()["errors"][0]
                assert error["code"] == "UNAVAILABLE" and first.url in error["message"], error
            assert "served from its last known value" in proxy.log_text(tail=None)
            assert skopeo.list_tags(f"docker://{proxy.host}/a/lib/app") == ["single"]  # what is stored here

            # Content of a live upstream not pulled for ttl expired (unlinked), and is fetched again when pulled.
            revision = v2 / "repositories" / "b" / "lib" / "other" / "_manifests" / "revisions" / "sha256"
            deadline = time.monotonic() + 5
            while (revision / other.split(":")[1]).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not (revision / other.split(":")[1]).exists()
            assert not list((v2 / "repositories" / "b" / "lib" / "other" / "_layers").rglob("link"))
            before = len(upstream_requests(second))
            assert (
                _manifest(client, "/v2/b/lib/other/manifests/other").headers["Docker-Content-Digest"] == other
            )
            assert ("GET", f"/v2/lib/other/manifests/{other}", 200) in upstream_requests(second)[before:]
    finally:
        cutter.close()


# --- an upstream that sends more than the blob --------------------------------------------------------------
class EndlessBlob:
    """An upstream (ASGI) that has one blob: HEAD gives its size; GET sends its bytes, no Content-Length, then
    goes on sending (up to ``limit``), counting what it got out."""

    def __init__(self, data: bytes, limit: int = 512 << 20) -> None:
        self.data, self.limit, self.sent = data, limit, 0
        self.digest = "sha256:" + hashlib.sha256(data).hexdigest()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path in ("/v2/", "/v2"):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if not path.endswith(f"/blobs/{self.digest}"):
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if method == "HEAD":
            headers = [(b"content-length", str(len(self.data)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        gone = asyncio.Event()

        async def watch() -> None:  # the proxy hanging up (after it, uvicorn drops what is sent)
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        await send({"type": "http.response.start", "status": 200, "headers": []})  # chunked: no length
        piece = self.data + os.urandom(1 << 20)
        while self.sent < self.limit and not gone.is_set():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            self.sent += len(piece)
            await asyncio.sleep(0.005)
        watcher.cancel()
        if not gone.is_set():
            await send({"type": "http.response.body", "body": b""})


def test_an_upstream_that_sends_past_the_blob_is_cut_and_nothing_is_stored(spawn: Spawner) -> None:
    """A GET without Content-Length is held to the size the upstream's HEAD gave: the transfer stops within a
    few MiB past it (not at the upstream's 512 MiB), the client's answer is cut short, and neither the blob
    nor an upload session is left in storage."""
    upstream = EndlessBlob(os.urandom(3 << 20))
    with serve(upstream) as url:
        proxy = spawn.ours("proxy-endless", {"proxy": {"remoteurl": url}})
        with (
            pytest.raises(httpx.HTTPError),
            httpx.stream("GET", f"{proxy.url}/v2/lib/endless/blobs/{upstream.digest}", timeout=60) as r,
        ):
            assert r.status_code == 200
            b"".join(r.iter_bytes())  # fewer bytes than its Content-Length: the connection is cut
        assert upstream.sent < 64 << 20
    stored = [p.name for p in proxy.root.rglob("*") if p.is_file() and "_claims" not in p.parts]
    assert not [name for name in stored if name in ("data", "startedat")], stored
