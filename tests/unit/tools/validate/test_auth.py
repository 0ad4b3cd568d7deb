"""The WWW-Authenticate challenge parser and the Basic / Bearer flows of RegistryAuth (over httpx.MockTransport)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from registry_spec.protocol.challenges import parse_challenge
from registry_toolkit.validate.auth import RegistryAuth, repository_of, token_of


@pytest.mark.parametrize(
    ("header", "scheme", "params"),
    [
        (
            'Bearer realm="https://auth.example/token",service="registry.example",'
            'scope="repository:a/b:pull,push repository:c:pull"',
            "bearer",
            {
                "realm": "https://auth.example/token",
                "service": "registry.example",
                "scope": "repository:a/b:pull,push repository:c:pull",
            },
        ),
        ('Basic realm="Registry Realm"', "basic", {"realm": "Registry Realm"}),
        (
            'Bearer realm="x",error="insufficient_scope"',
            "bearer",
            {"realm": "x", "error": "insufficient_scope"},
        ),
        ('Basic realm="say \\"hi\\""', "basic", {"realm": 'say "hi"'}),
        ("Bearer realm=bare,service=s", "bearer", {"realm": "bare", "service": "s"}),
    ],
)
def test_parse_challenge(header: str, scheme: str, params: dict[str, str]) -> None:
    challenge = parse_challenge(header)
    assert challenge is not None
    assert (challenge.scheme, challenge.params) == (scheme, params)


def test_no_challenge() -> None:
    assert parse_challenge(None) is None
    assert parse_challenge("  ") is None


def test_scopes_split_on_spaces() -> None:
    challenge = parse_challenge('Bearer realm="r",scope="repository:a:pull repository:b:push"')
    assert challenge is not None and challenge.scopes == ("repository:a:pull", "repository:b:push")


@pytest.mark.parametrize(
    ("path", "repository"),
    [
        ("/v2/", ""),
        ("/v2/_catalog", ""),
        ("/v2/a/b/manifests/latest", "a/b"),
        ("/v2/a/blobs/uploads/123", "a"),
        ("/v2/x/tags/list", "x"),
        ("/v2/x/referrers/sha256:00", "x"),
    ],
)
def test_repository_of(path: str, repository: str) -> None:
    assert repository_of(path) == repository


def test_token_of() -> None:
    assert token_of(httpx.Response(200, json={"token": "t"})) == "t"
    assert token_of(httpx.Response(200, json={"access_token": "a"})) == "a"
    assert token_of(httpx.Response(401, json={"token": "t"})) is None
    assert token_of(httpx.Response(200, content=b"not json")) is None


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_challenge_is_answered_and_remembered() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        if request.headers.get("authorization") == basic("alice", "pw"):
            return httpx.Response(200)
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    with httpx.Client(transport=httpx.MockTransport(handler), auth=RegistryAuth("alice", "pw")) as client:
        assert client.get("http://registry/v2/").status_code == 200
        assert client.get("http://registry/v2/a/tags/list").status_code == 200
    assert seen == [None, basic("alice", "pw"), basic("alice", "pw")]


def test_bearer_flow_fetches_a_token_per_repository() -> None:
    token_requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth":
            token_requests.append(request)
            scope = request.url.params.get("scope", "")
            return httpx.Response(200, content=json.dumps({"token": "tok:" + scope}).encode())
        repository = repository_of(request.url.path)
        wanted = f"Bearer tok:repository:{repository}:pull"
        if request.headers.get("authorization") == wanted:
            return httpx.Response(200)
        challenge = f'Bearer realm="http://auth/token",service="reg",scope="repository:{repository}:pull"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    auth = RegistryAuth("alice", "pw")
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        for _ in range(3):
            assert client.get("http://registry/v2/a/tags/list").status_code == 200
        assert client.get("http://registry/v2/b/manifests/x").status_code == 200
    assert len(token_requests) == 2  # one per repository, then reused
    first = token_requests[0]
    assert first.url.params.get("service") == "reg"
    assert first.url.params.get_list("scope") == ["repository:a:pull"]
    assert first.headers["authorization"] == basic("alice", "pw")


def test_a_refused_token_leaves_the_401() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth":
            return httpx.Response(401)
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://auth/token"'})

    with httpx.Client(transport=httpx.MockTransport(handler), auth=RegistryAuth()) as client:
        assert client.get("http://registry/v2/").status_code == 401
