"""GET /v2/ and the answers every route gives: API version header, envelopes for routing errors."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from testkit.registry import error_codes

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.api.prefix import PathPrefix

pytestmark = pytest.mark.anyio


async def test_base_answers_empty_object_with_api_version(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/")
    assert r.status_code == 200
    assert r.json() == {}
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert r.headers["content-type"] == "application/json"


async def test_root_is_distributions_liveness_answer(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["Content-Length"] == "0"


async def test_root_answers_head_as_get_and_refuses_writes(client: httpx.AsyncClient) -> None:
    r = await client.head("/")
    assert (r.status_code, r.content, r.headers["Cache-Control"]) == (200, b"", "no-cache")
    r = await client.post("/")  # distribution answers 200 to any method here; we answer GET and HEAD only
    assert r.status_code == 405
    assert error_codes(r) == ["UNSUPPORTED"]


async def test_root_stays_the_liveness_probe_under_a_path_prefix(state: AppState) -> None:
    app = PathPrefix(create_app(state), "/my/registry")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r.test") as c:
        assert (await c.get("/")).status_code == 200  # distribution 2.8.2 with http.prefix: the same
        assert (await c.get("/my/registry/")).status_code == 404
        assert (await c.get("/my/registry")).status_code == 404
        assert (await c.get("/my/registry/v2/")).status_code == 200


async def test_unknown_route_is_an_envelope_not_problem_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/a/unknown-entity/x")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert error_codes(r) == ["UNSUPPORTED"]
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"


async def test_wrong_method_is_405_unsupported(client: httpx.AsyncClient) -> None:
    r = await client.delete("/v2/")
    assert r.status_code == 405
    assert error_codes(r) == ["UNSUPPORTED"]


ROUTE_METHODS = {
    "/v2/": "GET, HEAD",
    "/v2/a/b/manifests/v1": "DELETE, GET, HEAD, PUT",
    "/v2/a/tags/list": "GET, HEAD",
    "/v2/_catalog": "GET, HEAD",
    "/v2/a/blobs/uploads/": "POST",
}


async def test_a_405_says_which_methods_the_route_has(client: httpx.AsyncClient) -> None:
    """RFC 9110 §15.5.6: a 405 carries Allow (the descriptor's methods of the route, HEAD with GET)."""
    for path, allow in ROUTE_METHODS.items():
        r = await client.request("PATCH", path)
        assert (r.status_code, error_codes(r), r.headers.get("Allow")) == (405, ["UNSUPPORTED"], allow), path


async def test_options_answers_a_cors_preflight(state: AppState) -> None:
    """A browser UI on another origin asks OPTIONS before a DELETE or an authenticated request: 200 with the
    route's methods, and the Access-Control-* headers an operator set in ``http.headers``, as distribution."""
    cors = {"Access-Control-Allow-Origin": ["http://ui.example"], "Access-Control-Allow-Methods": ["DELETE"]}
    state = dataclasses.replace(state, extra_headers=cors)
    preflight = {"Origin": "http://ui.example", "Access-Control-Request-Method": "DELETE"}
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for path, allow in ROUTE_METHODS.items():
            r = await c.options(path, headers=preflight)
            assert (r.status_code, r.headers.get("Allow"), r.content) == (200, allow, b""), path
            assert r.headers["Access-Control-Allow-Origin"] == "http://ui.example"
        assert (await c.options("/v2/a/unknown-entity/x")).status_code == 404
