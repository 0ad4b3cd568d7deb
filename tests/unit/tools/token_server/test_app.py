"""The token endpoint in-process: the Docker GET protocol, the OAuth2 POST form, and tokens a registry accepts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import jwt
import pytest
from cryptography import x509
from registry_toolkit.token_server.app import Settings
from registry_toolkit.token_server.cli import build

from registry_impl.auth.keys import trusted_keys
from registry_impl.auth.token import InvalidToken, TokenVerifier

pytestmark = pytest.mark.anyio
SERVICE = "registry.test"
ISSUER = "test-token-server"
ACL = """
- {account: alice, repository: "alice/*", actions: [pull, push]}
- {account: "*", repository: "library/*", actions: [pull]}
- {account: "", repository: "public/*", actions: [pull]}
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    users = tmp_path / "htpasswd"
    users.write_text(f"alice:{bcrypt.hashpw(b's3cret', bcrypt.gensalt(4)).decode()}\n")
    acl = tmp_path / "acl.yml"
    acl.write_text(ACL)
    return Settings(
        issuer=ISSUER,
        acl=acl,
        key=tmp_path / "keys" / "signing.key",
        certificate=tmp_path / "keys" / "signing.crt",
        service=SERVICE,
        htpasswd=users,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://auth.test") as c:
        yield c


@pytest.fixture
def verifier(settings: Settings, client: httpx.AsyncClient) -> TokenVerifier:
    roots = [x509.load_pem_x509_certificate(settings.certificate.read_bytes())]
    return TokenVerifier(ISSUER, SERVICE, roots, trusted_keys(roots, {}), ("ES256",))


def alice(password: str = "s3cret") -> tuple[str, str]:
    return ("alice", password)


def access_of(token: str) -> list[dict[str, Any]]:
    claims: list[dict[str, Any]] = jwt.decode(token, options={"verify_signature": False})["access"]
    return claims


async def test_get_issues_what_the_acl_grants(client: httpx.AsyncClient, verifier: TokenVerifier) -> None:
    r = await client.get(
        "/token",
        params=[
            ("service", SERVICE),
            ("scope", "repository:alice/app:pull,push,delete"),
            ("scope", "repository:library/ubuntu:pull,push repository:bob/app:pull"),
            ("account", "alice"),
        ],
        auth=alice(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["issued_at"])
    assert "refresh_token" not in body
    assert access_of(body["token"]) == [
        {"type": "repository", "name": "alice/app", "actions": ["pull", "push"]},
        {"type": "repository", "name": "library/ubuntu", "actions": ["pull"]},
    ]
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "ES256" and header["typ"] == "JWT" and len(header["x5c"]) == 1 and header["kid"]
    claims = verifier.verify(body["token"])
    assert claims.subject == "alice"


async def test_anonymous_gets_only_anonymous_grants(
    client: httpx.AsyncClient, verifier: TokenVerifier
) -> None:
    r = await client.get(
        "/token",
        params=[
            ("service", SERVICE),
            ("scope", "repository:public/x:pull,push"),
            ("scope", "repository:library/u:pull"),
        ],
    )
    assert r.status_code == 200
    assert access_of(r.json()["token"]) == [{"type": "repository", "name": "public/x", "actions": ["pull"]}]
    assert verifier.verify(r.json()["token"]).subject == ""
    offline = await client.get("/token", params={"service": SERVICE, "offline_token": "true"})
    assert "refresh_token" not in offline.json()


async def test_a_token_without_scopes_is_still_a_login(client: httpx.AsyncClient) -> None:
    r = await client.get("/token", params={"service": SERVICE}, auth=alice())
    assert r.status_code == 200 and access_of(r.json()["token"]) == []


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"auth": alice("wrong")}, 401),
        ({"auth": ("mallory", "s3cret")}, 401),
        ({"headers": {"Authorization": "Basic !!!"}}, 401),
        ({"headers": {"Authorization": "Bearer something"}}, 401),
        ({"auth": alice(), "params": {"service": SERVICE, "account": "bob"}}, 400),
        ({"auth": alice(), "params": {"service": "other-registry"}}, 400),
        ({"auth": alice(), "params": {"service": SERVICE, "scope": "nonsense"}}, 400),
    ],
)
async def test_get_refusals(client: httpx.AsyncClient, kwargs: dict[str, Any], status: int) -> None:
    kwargs.setdefault("params", {"service": SERVICE})
    r = await client.get("/token", **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["error"]
    if status == 401:
        assert r.headers["WWW-Authenticate"] == 'Basic realm="registry-token-server"'


async def test_the_configured_service_is_the_default(
    client: httpx.AsyncClient, verifier: TokenVerifier
) -> None:
    r = await client.get("/token", auth=alice())
    assert r.status_code == 200
    verifier.verify(r.json()["token"])


async def test_offline_token_and_refresh(client: httpx.AsyncClient, verifier: TokenVerifier) -> None:
    r = await client.get("/token", params={"service": SERVICE, "offline_token": "true"}, auth=alice())
    refresh = r.json()["refresh_token"]
    with pytest.raises(InvalidToken):
        verifier.verify(refresh)  # never an access token for the registry
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "service": SERVICE,
        "scope": "repository:alice/x:push",
    }
    again = await client.post("/token", data=form)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["scope"] == "repository:alice/x:push"
    assert "refresh_token" not in body and "token" not in body
    assert verifier.verify(body["access_token"]).subject == "alice"


async def test_post_password_grant(client: httpx.AsyncClient, verifier: TokenVerifier) -> None:
    form = {
        "grant_type": "password",
        "username": "alice",
        "password": "s3cret",
        "service": SERVICE,
        "client_id": "test",
        "access_type": "offline",
        "scope": "repository:alice/app:pull,push repository:library/u:pull,push",
    }
    r = await client.post("/token", data=form)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "repository:alice/app:pull,push repository:library/u:pull"
    assert body["refresh_token"] and body["expires_in"] == 300
    verifier.verify(body["access_token"])


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password", "username": "alice", "password": "wrong"}, 401, "invalid_grant"),
        ({"grant_type": "password", "username": "", "password": ""}, 401, "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "not.a.token"}, 401, "invalid_grant"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({}, 400, "unsupported_grant_type"),
    ],
)
async def test_post_refusals(
    client: httpx.AsyncClient, form: dict[str, str], status: int, error: str
) -> None:
    r = await client.post("/token", data={"service": SERVICE, **form})
    assert (r.status_code, r.json()["error"]) == (status, error)


async def test_an_access_token_is_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    token = (await client.get("/token", auth=alice())).json()["token"]
    r = await client.post("/token", data={"grant_type": "refresh_token", "refresh_token": token})
    assert r.status_code == 401


async def test_a_refresh_token_dies_with_its_account(client: httpx.AsyncClient, settings: Settings) -> None:
    refresh = (await client.get("/token", params={"offline_token": "true"}, auth=alice())).json()[
        "refresh_token"
    ]
    assert settings.htpasswd is not None
    settings.htpasswd.write_text("bob:$2y$05$x\n# alice is gone\n")
    r = await client.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert r.status_code == 401


async def test_healthz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
