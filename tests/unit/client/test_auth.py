"""RegistryAuth: the Bearer token flow (scopes, reuse, refresh), Basic, anonymous tokens, identity tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import pytest
from registry_client import Credential, RegistryClient
from registry_client.auth import RegistryAuth, scopes_for
from registry_client.errors import AuthenticationFailed, Unauthorized
from registry_client.transport import RetryPolicy
from registry_spec.protocol.challenges import parse_challenges

REALM = "https://auth.test/token"
USER = Credential(username="alice", password="s3cret")


@dataclass
class TokenRegistry:
    """A registry that wants ``Bearer`` tokens carrying the scope it names, and the token service issuing them."""

    expires_in: int = 300
    issued: list[dict[str, list[str]]] = field(default_factory=list)
    token_auth: list[str | None] = field(default_factory=list)
    registry_auth: list[str | None] = field(default_factory=list)
    valid: dict[str, set[str]] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            return self.token(request)
        self.registry_auth.append(request.headers.get("authorization"))
        needed = set(scopes_for(request)) or {"*"}
        header = request.headers.get("authorization", "")
        granted = self.valid.get(header.removeprefix("Bearer "), set())
        if header.startswith("Bearer ") and (needed <= granted or (needed == {"*"} and granted)):
            return httpx.Response(200, json={"ok": True})
        scope = " ".join(sorted(needed - {"*"}))
        challenge = f'Bearer realm="{REALM}",service="registry.test"' + (f',scope="{scope}"' if scope else "")
        return httpx.Response(
            401,
            headers={"WWW-Authenticate": challenge},
            json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]},
        )

    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_auth.append(request.headers.get("authorization"))
        if request.method == "POST":
            params = parse_qs(request.content.decode())
        else:
            params = parse_qs(request.url.query.decode())
        self.issued.append(params)
        auth = request.headers.get("authorization")
        if auth is not None and auth != "Basic " + base64.b64encode(b"alice:s3cret").decode():
            return httpx.Response(401)
        if request.method == "POST" and params.get("refresh_token") != ["refresh-me"]:
            return httpx.Response(401)
        value = f"token-{len(self.issued)}"
        self.valid[value] = set(" ".join(params.get("scope", [])).split())
        return httpx.Response(200, json={"token": value, "expires_in": self.expires_in})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    registry: TokenRegistry, credentials: Credential | None = None, clock: Clock | None = None
) -> httpx.Client:
    auth = RegistryAuth(credentials, clock=clock or Clock())
    return httpx.Client(
        transport=httpx.MockTransport(registry.handle), auth=auth, base_url="http://registry.test"
    )


def test_bearer_flow_gets_a_token_for_the_challenged_scope_with_basic_credentials() -> None:
    registry = TokenRegistry()
    with make(registry, USER) as http:
        assert http.get("/v2/library/alpine/manifests/3").status_code == 200
    assert registry.issued == [
        {
            "scope": ["repository:library/alpine:pull"],
            "service": ["registry.test"],
            "client_id": ["pydistribution-dist"],
        }
    ]
    assert registry.token_auth == ["Basic " + base64.b64encode(b"alice:s3cret").decode()]
    assert registry.registry_auth == [None, "Bearer token-1"]


def test_a_token_is_reused_for_its_scope_and_a_new_scope_gets_a_new_one() -> None:
    registry = TokenRegistry()
    with make(registry, USER) as http:
        for _ in range(3):
            assert http.head("/v2/a/blobs/sha256:" + "0" * 64).status_code == 200
        assert http.post("/v2/a/blobs/uploads/").status_code == 200
        assert http.patch("/v2/a/blobs/uploads/u", content=b"x").status_code == 200
    assert len(registry.issued) == 2
    assert registry.issued[1]["scope"] == ["repository:a:pull,push"]
    # pull: challenged once, then the token up front; push: challenged once, then its token up front
    assert registry.registry_auth == [
        None,
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-1",
        None,
        "Bearer token-2",
        "Bearer token-2",
    ]


def test_an_expired_token_is_refreshed_before_use() -> None:
    registry, clock = TokenRegistry(expires_in=60), Clock()
    with make(registry, USER, clock) as http:
        http.get("/v2/a/tags/list")
        clock.now += 30
        http.get("/v2/a/tags/list")
        assert len(registry.issued) == 1
        clock.now += 30
        http.get("/v2/a/tags/list")
    assert len(registry.issued) == 2


def test_a_rejected_token_is_replaced_once() -> None:
    registry = TokenRegistry()
    with make(registry, USER) as http:
        http.get("/v2/a/tags/list")
        registry.valid.clear()  # revoked server-side
        assert http.get("/v2/a/tags/list").status_code == 200
    assert len(registry.issued) == 2


def test_mount_asks_for_pull_on_the_source_repository() -> None:
    request = httpx.Request("POST", "http://r/v2/b/blobs/uploads/?mount=sha256:x&from=a/src")
    assert scopes_for(request) == ("repository:b:pull,push", "repository:a/src:pull")
    assert scopes_for(httpx.Request("GET", "http://r/v2/_catalog?n=1")) == ("registry:catalog:*",)
    assert scopes_for(httpx.Request("DELETE", "http://r/v2/a/b/manifests/sha256:x")) == (
        "repository:a/b:delete",
    )
    assert scopes_for(httpx.Request("GET", "http://r/v2/")) == ()


def test_anonymous_token_when_there_are_no_credentials() -> None:
    registry = TokenRegistry()
    with make(registry) as http:
        assert http.get("/v2/library/alpine/manifests/3").status_code == 200
    assert registry.token_auth == [None]


def test_identity_token_uses_the_oauth2_refresh_grant() -> None:
    registry = TokenRegistry()
    with make(registry, Credential(identity_token="refresh-me")) as http:
        assert http.get("/v2/a/manifests/v1").status_code == 200
    assert registry.issued[0]["grant_type"] == ["refresh_token"]
    assert registry.issued[0]["scope"] == ["repository:a:pull"]


def test_refused_credentials_raise_authentication_failed() -> None:
    registry = TokenRegistry()
    with (
        make(registry, Credential(username="alice", password="wrong")) as http,
        pytest.raises(AuthenticationFailed),
    ):
        http.get("/v2/a/manifests/v1")


def test_basic_challenge_is_answered_and_then_sent_up_front() -> None:
    seen: list[str | None] = []
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        if request.headers.get("authorization") == expected:
            return httpx.Response(200)
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="Registry Realm"'})

    with httpx.Client(transport=httpx.MockTransport(handle), auth=RegistryAuth(USER)) as http:
        assert http.get("http://r/v2/").status_code == 200
        assert http.get("http://r/v2/a/tags/list").status_code == 200
    assert seen == [None, expected, expected]


def test_basic_without_credentials_surfaces_unauthorized() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        body = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]}
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}, json=body)

    client = RegistryClient("http://r", transport=httpx.MockTransport(handle), retry=RetryPolicy(attempts=1))
    with client, pytest.raises(Unauthorized) as caught:
        client.ping()
    assert caught.value.code == "UNAUTHORIZED" and caught.value.status == 401


def test_parse_challenges() -> None:
    (bearer,) = parse_challenges(
        [
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:samalba/my-app:pull,push repository:other:pull",error="insufficient_scope"'
        ]
    )
    assert bearer.scheme == "bearer"
    assert bearer.params["realm"] == "https://auth.docker.io/token"
    assert bearer.params["error"] == "insufficient_scope"
    assert bearer.scopes == ("repository:samalba/my-app:pull,push", "repository:other:pull")
    assert parse_challenges(["Basic realm=registry"])[0].params == {"realm": "registry"}
    assert json.dumps(parse_challenges([])) == "[]"


def redirecting_registry(seen: list[tuple[str, str | None]]) -> httpx.MockTransport:
    """registry.test wants Basic and redirects blob GETs to cdn.test, whose own Bearer realm issues its token."""
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()

    def handle(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization")
        seen.append((request.url.host, auth))
        if request.url.host == "registry.test":
            if auth != expected:
                return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
            return httpx.Response(307, headers={"Location": "http://cdn.test/store/blob"})
        if request.url.path == "/token":
            return httpx.Response(200, json={"token": "cdn-token"})
        if auth == "Bearer cdn-token":
            return httpx.Response(200, content=b"layer")
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://cdn.test/token"'})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("fixed", [True, False], ids=["credential", "docker-config"])
def test_a_redirect_target_never_gets_the_registrys_credentials(fixed: bool) -> None:
    seen: list[tuple[str, str | None]] = []
    source = USER if fixed else (lambda host: USER if host == "registry.test" else None)
    digest = "sha256:" + hashlib.sha256(b"layer").hexdigest()
    client = RegistryClient(
        "http://registry.test", credentials=source, transport=redirecting_registry(seen), retry=RetryPolicy(1)
    )
    with client:
        assert client.blobs.get("a", digest) == b"layer"
    assert {auth for host, auth in seen if host == "cdn.test"} == {None, "Bearer cdn-token"}
    assert "Bearer cdn-token" not in {auth for host, auth in seen if host == "registry.test"}


def test_a_fixed_credential_is_for_its_own_host_only() -> None:
    seen: list[tuple[str, str | None]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get("authorization")))
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    with httpx.Client(transport=httpx.MockTransport(handle), auth=RegistryAuth(USER, host="r.test")) as http:
        http.get("http://other.test/v2/")
        http.get("http://r.test/v2/")
    assert seen[0] == ("other.test", None) and seen[1:] == [("r.test", None), ("r.test", _basic_header())]


def _basic_header() -> str:
    return "Basic " + base64.b64encode(b"alice:s3cret").decode()
