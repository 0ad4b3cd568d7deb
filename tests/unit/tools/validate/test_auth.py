"""The WWW-Authenticate challenge parser and the Basic / Bearer flows of RegistryAuth (over httpx.MockTransport),
which keeps the given credentials for the registry under test and the realm it names."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from registry_spec.protocol.challenges import parse_challenge
from registry_toolkit.validate.auth import RegistryAuth, repository_of
from registry_toolkit.validate.options import Options
from registry_toolkit.validate.session import Session


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


# --- credentials stay with the registry under test (through registry-validate's own Session) -------------------


DIGEST = "sha256:" + "0" * 64


class Probe:
    """A registry (r.test, Bearer realm on auth.test) whose blob GET redirects to cdn.test, which asks for a token
    from ``realm_host``. auth.test hands the registry's token for alice's credentials, an anonymous one without."""

    def __init__(self, realm_host: str) -> None:
        self.realm_host = realm_host
        self.at_auth: list[httpx.Request] = []
        self.at_cdn: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host == "auth.test":
            self.at_auth.append(request)
            given = request.headers.get("authorization") == basic("alice", "pw")
            return httpx.Response(200, json={"token": "registry-token" if given else "anonymous"})
        if host == "r.test":
            if request.headers.get("authorization") != "Bearer registry-token":
                return httpx.Response(
                    401, headers={"WWW-Authenticate": 'Bearer realm="http://auth.test/token"'}
                )
            if "/blobs/" in request.url.path:
                return httpx.Response(307, headers={"Location": "http://cdn.test/blob"})
            return httpx.Response(200, json={"name": "ns", "tags": []})
        self.at_cdn.append(request)
        if request.url.path == "/token":
            return httpx.Response(200, json={"token": "anonymous"})
        if request.headers.get("authorization") == "Bearer anonymous":
            return httpx.Response(200, content=b"blob")
        challenge = f'Bearer realm="http://{self.realm_host}/token"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})


@pytest.mark.parametrize("realm_host", ["cdn.test", "auth.test"])
def test_a_redirect_targets_challenge_gets_no_registry_credentials(realm_host: str) -> None:
    """A 401 at the end of a redirect is answered for the host that sent it: the redirect target, which the
    validator has no credentials for. The realm it names (its own host, or even the registry's token service) is
    asked anonymously, and neither the registry's credentials nor its token reach the target."""
    probe = Probe(realm_host)
    session = Session(
        Options(url="http://r.test", username="alice", password="pw"), httpx.MockTransport(probe)
    )
    try:
        assert session.request("GET", "/v2/ns/tags/list").status == 200  # the registry's token, cached
        before = len(probe.at_auth)
        reply = session.request("GET", f"/v2/ns/blobs/{DIGEST}", follow_redirects=True)
    finally:
        session.close()
    sent_to_cdn = [r.headers.get("authorization") for r in probe.at_cdn]
    assert basic("alice", "pw") not in sent_to_cdn
    assert "Bearer registry-token" not in sent_to_cdn
    assert [r.headers.get("authorization") for r in probe.at_auth[before:]] in ([], [None])
    assert reply.status == 200 and reply.content == b"blob"


def test_the_registrys_own_challenge_sends_credentials_to_its_realm_on_another_host() -> None:
    """An auth server on another host than the registry is normal: the realm the registry itself names gets them."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "auth.test":
            return httpx.Response(200, json={"token": "t"})
        if request.headers.get("authorization") == "Bearer t":
            return httpx.Response(200)
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://auth.test/token"'})

    options = Options(url="http://r.test", username="alice", password="pw")
    session = Session(options, transport=httpx.MockTransport(handler))
    try:
        assert session.request("GET", "/v2/").status == 200
    finally:
        session.close()
    token_requests = [r for r in seen if r.url.host == "auth.test"]
    assert [r.headers.get("authorization") for r in token_requests] == [basic("alice", "pw")]
