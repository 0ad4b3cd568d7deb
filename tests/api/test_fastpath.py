"""The fast path answers exactly as the framework path does, request by request, for every operation the
descriptor marks ``fast``."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from registry_spec.router import ROUTER
from testkit.registry import OCI_INDEX, OCI_MANIFEST, Helper, sha256

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.api.fastpath import FastPath

pytestmark = pytest.mark.anyio

SKIP_HEADERS = {"date", "server"}


@pytest.fixture
async def both(state: AppState) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    slow = create_app(state, fast_path=False)
    fast = create_app(state, fast_path=True)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=slow), base_url="http://r.test") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fast), base_url="http://r.test") as b,
    ):
        yield a, b


OCTETS = {"Content-Type": "application/octet-stream"}
UPLOAD_STEPS_FAST = 12  # of _uploads' steps, those the fast path takes


async def _uploads(client: httpx.AsyncClient, layer: str) -> list[tuple[int, dict[str, str], bytes]]:
    """Upload sessions driven step by step: each answer, with session ids and state tokens replaced."""
    answers: list[httpx.Response] = []

    async def step(method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"") -> str:
        r = await client.request(method, url, headers=headers or {}, content=body or None)
        answers.append(r)
        return r.headers.get("location", "")

    data = b"0123456789"
    digest = sha256(data)
    at = await step("POST", "/v2/org/up/blobs/uploads/")  # no body, no Content-Type
    at = await step("PATCH", at, {**OCTETS, "Content-Range": "0-3"}, data[:4])
    await step("PATCH", at, {**OCTETS, "Content-Range": "0-3"}, data[:4])  # 416: not where it ends
    await step("PATCH", at, {**OCTETS, "Content-Range": "4-x"}, data[4:])  # off the grammar
    await step("PATCH", at, {"Content-Type": "application/octet-stream; x=y"}, data[4:6])
    at = await step("PATCH", at, OCTETS, data[4:6])  # streamed: no Content-Range
    at = await step("PATCH", at, {}, data[6:8])  # no Content-Type
    await step("GET", at)
    await step("PATCH", at.replace("_state=", "_state=x"), OCTETS, data[8:])  # a token that does not verify
    await step("PUT", at + "&digest=" + sha256(b"other"), OCTETS, data[8:])  # the wrong digest
    at = await step("POST", "/v2/org/up/blobs/uploads/")
    await step("PUT", at + "&digest=" + digest, OCTETS, data)  # the whole blob at completion
    await step("PATCH", at, OCTETS, data)  # the session is gone
    await step("POST", "/v2/org/up/blobs/uploads/?digest=" + digest, OCTETS, data)  # monolithic
    await step("POST", "/v2/org/up/blobs/uploads/?digest=" + digest, {"Content-Type": "text/plain"}, data)
    await step("POST", f"/v2/org/up/blobs/uploads/?mount={layer}&from=org/app")
    await step("POST", "/v2/org/up/blobs/uploads/?mount=nope&from=org/app")
    sessions = {
        part
        for r in answers
        for part in re.findall(r"/blobs/uploads/([^?/]+)\?_state=([^&\s\"]+)", r.headers.get("location", ""))
    }
    comparable = []
    for r in answers:
        status, headers, content = _comparable(r)
        text = json.dumps([headers, content.decode("latin-1")])
        for uuid, token in sessions:
            text = text.replace(uuid, "<uuid>").replace(token, "<state>")
        comparable.append((status, *json.loads(text)))
    statuses = [status for status, *_ in comparable]
    assert statuses == [202, 202, 416, 416, 202, 202, 202, 204, 400, 400, 202, 201, 404, 201, 415, 201, 400]
    return comparable


def _comparable(r: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in r.headers.items() if k not in SKIP_HEADERS}
    return r.status_code, headers, r.content


async def test_fast_and_framework_paths_agree(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    slow, fast = both
    taken: list[tuple[str, str]] = []  # (operationId, path)
    original = FastPath._match

    def spy(self: FastPath, scope: dict[str, object]) -> object:
        result = original(self, scope)  # type: ignore[arg-type]
        if result is not None:
            taken.append((result[0].operation_id, str(scope["path"])))
        return result

    monkeypatch.setattr(FastPath, "_match", spy)
    pushed = await Helper(slow).image("org/app", "v1", layers=2)
    layer = sha256(b"layer-0-")
    requests: list[tuple[str, str, dict[str, str], bytes]] = [
        (method, url, headers, b"")
        for method, url, headers in [
            ("GET", "/v2/", {}),
            ("GET", "/v2", {}),
            ("GET", "/v2/?x=1", {}),
            ("HEAD", "/v2/", {}),
            ("GET", "/v2/org/app/manifests/v1", {}),
            ("HEAD", "/v2/org/app/manifests/v1", {}),
            ("GET", f"/v2/org/app/manifests/{pushed.digest}", {}),
            ("GET", "/v2/org/app/manifests/v1", {"If-None-Match": f'"{pushed.digest}"'}),
            ("GET", "/v2/org/app/manifests/nope", {}),
            ("GET", "/v2/other/manifests/v1", {}),
            ("GET", "/v2/org/app/manifests/sha256:" + "0" * 64, {}),
            ("GET", "/v2/org/app/manifests/sha256:abc", {}),
            ("GET", "/v2/Org/app/manifests/v1", {}),
            ("GET", "/v2/org/app/manifests/.bad", {}),
            ("GET", f"/v2/org/app/blobs/{layer}", {}),
            ("HEAD", f"/v2/org/app/blobs/{layer}", {}),
            ("GET", f"/v2/org/app/blobs/{layer}", {"Range": "bytes=1-3"}),
            ("GET", f"/v2/org/app/blobs/{layer}", {"Range": "bytes=100-"}),
            ("GET", f"/v2/org/app/blobs/{layer}", {"If-None-Match": f'"{layer}"'}),
            ("GET", f"/v2/other/blobs/{layer}", {}),
            ("GET", "/v2/org/app/blobs/md5:abc", {}),
            ("GET", f"/v2/org/app/blobs/{layer}?x=1", {}),
            ("GET", "/v2/org/app/tags/list", {}),
            ("GET", "/v2/org/app/tags/list?n=1", {}),
            ("GET", "/v2/org/app/tags/list?n=1&last=v0", {}),
            ("GET", "/v2/org/app/tags/list?n=x", {}),
            ("GET", "/v2/org/app/tags/list?other=1", {}),
            ("GET", "/v2/nothere/tags/list", {}),
            ("GET", "/v2/_catalog", {}),
            ("GET", "/v2/_catalog?n=1", {}),
            ("GET", "/v2/_catalog?n=1&last=org%2Fapp", {}),
            ("GET", "/v2/_catalog?n=-1", {}),
            ("GET", "/v2/_catalog?n=%2B1", {}),
            ("GET", "/v2/_catalog?n=1&n=2", {}),
            ("HEAD", "/v2/org/app/tags/list", {}),
            ("GET", "/v2/org%2Fapp/tags/list", {}),
            ("GET", "/v2/" + "a" * 256 + "/tags/list", {}),
            ("GET", "/v2//manifests/v1", {}),
            ("GET", "/v2/org/app/manifests/" + "t" * 129, {}),
            ("HEAD", "/v2/org/app/manifests/.bad", {}),
            ("HEAD", "/v2/org/app/blobs/sha256:" + "0" * 64, {}),
            ("GET", "/v2/org/app/referrers/" + pushed.digest, {}),
        ]
    ]
    # Manifest PUTs: each is sent to both paths, in turn (the second finds what the first stored).
    manifest = json.loads(pushed.content)
    other = json.dumps({**manifest, "annotations": {"a": "b"}}).encode()
    missing = json.dumps({**manifest, "config": {**manifest["config"], "digest": sha256(b"none")}}).encode()
    oci = {"Content-Type": OCI_MANIFEST}
    requests += [
        ("PUT", "/v2/org/app/manifests/v2", oci, pushed.content),
        ("PUT", f"/v2/org/app/manifests/{pushed.digest}", oci, pushed.content),
        ("PUT", f"/v2/org/app/manifests/{sha256(other)}?tag=t1", oci, other),
        ("PUT", f"/v2/org/app/manifests/{sha256(other)}?tag=t1&tag=t2", oci, other),
        ("PUT", f"/v2/org/app/manifests/{sha256(other)}?tag=.bad", oci, other),
        ("PUT", "/v2/org/app/manifests/v3?tag=t1", oci, other),
        ("PUT", f"/v2/org/app/manifests/{pushed.digest}", oci, other),
        ("PUT", "/v2/org/app/manifests/v4", {"Content-Type": OCI_MANIFEST + "; charset=utf-8"}, other),
        ("PUT", "/v2/org/app/manifests/v4", {"Content-Type": OCI_INDEX}, other),
        ("PUT", "/v2/org/app/manifests/v4", {"Content-Type": "text/plain"}, other),
        ("PUT", "/v2/org/app/manifests/v4", {}, other),
        ("PUT", "/v2/org/app/manifests/v4", oci, b""),
        ("PUT", "/v2/org/app/manifests/v4", oci, b"{not json"),
        ("PUT", "/v2/org/app/manifests/v4", oci, b"[]"),
        ("PUT", "/v2/org/app/manifests/v4", oci, b'{"schemaVersion": 2}'),
        ("PUT", "/v2/org/app/manifests/v4", oci, b"{" + b" " * (4 * 1024 * 1024) + b"}"),
        ("PUT", "/v2/org/app/manifests/v4", oci, missing),
        ("PUT", "/v2/org/app/manifests/.bad", oci, other),
        ("PUT", "/v2/Org/app/manifests/v4", oci, other),
    ]
    for method, url, headers, body in requests:
        a = await slow.request(method, url, headers=headers, content=body or None)
        b = await fast.request(method, url, headers=headers, content=body or None)
        assert _comparable(a) == _comparable(b), (method, url, headers, body[:100])
    # Uploads: the same steps on each path, each in sessions of its own (their ids and tokens set aside).
    assert await _uploads(slow, layer) == await _uploads(fast, layer)
    # Every fast operation took the fast path; values off their grammar, unknown or repeated query
    # parameters and operations not marked fast fell through to the framework.
    assert {operation for operation, _ in taken} == {
        op.operation_id for op in ROUTER.operations.values() if op.method.fast
    }
    refused = {
        "/v2/Org/app/manifests/v1",
        "/v2/org/app/manifests/.bad",
        "/v2//manifests/v1",
        "/v2/" + "a" * 256 + "/tags/list",
        f"/v2/org/app/referrers/{pushed.digest}",
        "/v2/Org/app/manifests/v4",
    }
    assert not refused & {path for _, path in taken}
    # the version checks without a query (HEAD is the framework's), the valid reads above, `sha256:abc` and
    # `md5:abc` included (digests by the grammar), the PUTs with one valid tag parameter at most and a
    # listed Content-Type, without parameters, and the upload steps with valid headers and an
    # octet-stream body or none
    assert len(taken) == 26 + 13 + UPLOAD_STEPS_FAST


async def test_an_unexpected_error_in_a_fast_write_is_answered_as_the_framework_answers_it(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The body is read by then, so the fast path cannot hand the request on: 500 UNKNOWN, logged."""
    slow, fast = both
    pushed = await Helper(slow).image("org/app", "v1")

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("storage exploded")

    monkeypatch.setattr("registry_impl.services.manifests.put", broken)
    answers = []
    for client in (slow, fast):
        headers = {"Content-Type": OCI_MANIFEST}
        r = await client.put("/v2/org/app/manifests/v2", content=pushed.content, headers=headers)
        answers.append((r.status_code, r.json()["errors"][0]["code"], set(r.json()["errors"][0]["detail"])))
    assert answers == [(500, "UNKNOWN", {"request_id"})] * 2
    assert sum("storage exploded" in str(record.exc_info) for record in caplog.records) == 2
