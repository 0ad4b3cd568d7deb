"""The bench's manifest PUT load (``loads.manifest_push_script``) run by the real wrk against a loopback
server that records each request: every PUT carries a manifest not sent before, each wrk thread PUTs to its
own tag, and a body is the bench's manifest plus one annotation (so both registries store the same work)."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from registry_toolkit.bench import loads

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "a" * 64,
            "size": 2,
        },
        "layers": [],
    },
    indent=2,
).encode()
MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    seen: list[tuple[str, str, bytes]] = []  # (path, content type, body)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, self.headers["Content-Type"], body))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2/bench/image/manifests/put", seen
    finally:
        server.shutdown()
        server.server_close()


def _wrk() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed; CI must run the bench's load tests")
        pytest.skip("wrk is not installed (apt-get install wrk)")


def test_every_put_is_a_new_manifest_to_the_threads_own_tag(
    recorder: tuple[str, list[tuple[str, str, bytes]]], tmp_path: Path
) -> None:
    _wrk()
    url, seen = recorder
    script = tmp_path / "push.lua"
    script.write_text(loads.manifest_push_script("bench/image", MANIFEST, MEDIA_TYPE, "n0nce"))
    result = loads.wrk(url, connections=2, seconds=1, script=script, threads=2)
    assert result.requests > 10 and result.non_2xx == 0 and result.errors == 0
    assert len(seen) >= result.requests
    tags = {path for path, _, _ in seen}
    assert tags == {"/v2/bench/image/manifests/put-1", "/v2/bench/image/manifests/put-2"}
    bodies = [body for _, _, body in seen]
    assert len(set(bodies)) == len(bodies)  # never the same manifest twice
    expected = json.loads(MANIFEST)
    for path, content_type, body in seen:
        document = json.loads(body)
        note = document.pop("annotations")
        assert document == expected and content_type == MEDIA_TYPE
        nonce, thread, n = note["registry-bench"].split("-")
        assert nonce == "n0nce" and path.endswith(f"put-{thread}") and int(n) >= 1


def test_a_manifest_the_lua_string_cannot_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="Lua"):
        loads.manifest_push_script("r", json.dumps({"x": "]==]"}).encode(), MEDIA_TYPE, "n")
