"""Access control in-process: the challenge and envelope of each scheme, scopes per route, fast reads protected."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import bcrypt
import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import OCI_MANIFEST, Helper, error_codes, sha256
from testkit.tokens import Signer, bearer

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.auth.base import Access, AccessController, Grant
from registry_impl.auth.htpasswd import HtpasswdAccessController
from registry_impl.auth.silly import SillyAccessController
from registry_impl.auth.token import TokenAccessController
from registry_impl.errors import Denied
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio
REALM = "https://auth.test/token"
DIGEST = "sha256:" + "a" * 64


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def detail(*records: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"Type": t, "Class": "", "Name": n, "Action": a} for t, n, a in records]


def assert_unauthorized(r: httpx.Response, challenge: str) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == challenge
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert error_codes(r) == ["UNAUTHORIZED"]
    assert r.json()["errors"][0]["message"] == "authentication required"


@pytest.fixture
def driver() -> StorageDriver:
    return InMemoryDriver()


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer.create(tmp_path / "signer", issuer="test-issuer", service="registry.test")


@pytest.fixture
def controller(request: pytest.FixtureRequest, tmp_path: Path, signer: Signer) -> AccessController | None:
    """The scheme a test names with ``@scheme(...)``; None (no ``auth`` section) otherwise."""
    kind = getattr(request, "param", None)
    if kind == "silly":
        return SillyAccessController(REALM, "registry.test")
    if kind == "htpasswd":
        path = tmp_path / "htpasswd"
        path.write_text(f"alice:{bcrypt.hashpw(b's3cret', bcrypt.gensalt(4)).decode()}\n")
        return HtpasswdAccessController("Registry Realm", path)
    if kind == "token":
        params = {
            "realm": REALM,
            "service": signer.service,
            "issuer": signer.issuer,
            "rootcertbundle": str(signer.bundle),
        }
        return TokenAccessController.from_params(params)
    if kind == "deny-writes":
        return DenyWrites()
    return None


def scheme(kind: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("controller", [kind], indirect=True)


@pytest.fixture
def state(driver: StorageDriver, policy: Policy, controller: AccessController | None) -> AppState:
    registry = Registry(driver, policy)
    return AppState(registry=registry, secret=b"test-secret", access=controller)


@pytest.fixture
async def fast_client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    """The production shape: no response validation, so manifest and blob reads take the fast path."""
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
        yield c


# --- silly ---------------------------------------------------------------------------------------
@scheme("silly")
async def test_silly_challenges_without_a_header(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await client.get("/v2/"), f'Bearer realm="{REALM}",service="registry.test"')
    r = await client.get("/v2/org/app/tags/list")
    assert_unauthorized(r, f'Bearer realm="{REALM}",service="registry.test",scope="repository:org/app:pull"')
    assert r.json()["errors"][0]["detail"] == detail(("repository", "org/app", "pull"))


@scheme("silly")
async def test_silly_passes_any_header(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/", headers={"Authorization": "whatever"})
    assert r.status_code == 200


# --- htpasswd ------------------------------------------------------------------------------------
@scheme("htpasswd")
async def test_htpasswd_basic_challenge(client: httpx.AsyncClient) -> None:
    challenge = 'Basic realm="Registry Realm"'
    assert_unauthorized(await client.get("/v2/"), challenge)
    assert_unauthorized(await client.get("/v2/", headers=basic("alice", "wrong")), challenge)
    assert_unauthorized(await client.get("/v2/", headers=basic("bob", "s3cret")), challenge)
    assert (await client.get("/v2/", headers=basic("alice", "s3cret"))).status_code == 200


@scheme("htpasswd")
async def test_htpasswd_users_push_and_pull(client: httpx.AsyncClient) -> None:
    client.headers.update(basic("alice", "s3cret"))
    pushed = await Helper(client).image("org/app", "v1")
    r = await client.get("/v2/org/app/manifests/v1", headers={"Accept": pushed.media_type})
    assert r.status_code == 200 and r.content == pushed.content
    del client.headers["Authorization"]
    r = await client.put(
        "/v2/org/app/manifests/v2", content=pushed.content, headers={"Content-Type": pushed.media_type}
    )
    assert_unauthorized(r, 'Basic realm="Registry Realm"')
    assert r.json()["errors"][0]["detail"] == detail(
        ("repository", "org/app", "pull"), ("repository", "org/app", "push")
    )


@scheme("htpasswd")
async def test_a_failing_controller_answers_400_without_a_body(
    controller: HtpasswdAccessController, client: httpx.AsyncClient
) -> None:
    controller.users.path.write_text("not an htpasswd line\n")
    r = await client.get("/v2/", headers=basic("alice", "s3cret"))
    assert (r.status_code, r.content) == (400, b"")


# --- token ---------------------------------------------------------------------------------------
def bearer_challenge(scope: str = "", error: str = "") -> str:
    value = f'Bearer realm="{REALM}",service="registry.test"'
    if scope:
        value += f',scope="{scope}"'
    if error:
        value += f',error="{error}"'
    return value


@scheme("token")
@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/v2/", ""),
        ("GET", "/v2/_catalog", "registry:catalog:*"),
        ("GET", "/v2/org/app/tags/list", "repository:org/app:pull"),
        ("GET", "/v2/org/app/manifests/v1", "repository:org/app:pull"),
        ("HEAD", "/v2/org/app/manifests/v1", "repository:org/app:pull"),
        ("PUT", "/v2/org/app/manifests/v1", "repository:org/app:pull,push"),
        ("DELETE", f"/v2/org/app/manifests/{DIGEST}", "repository:org/app:delete"),
        ("GET", f"/v2/org/app/blobs/{DIGEST}", "repository:org/app:pull"),
        ("DELETE", f"/v2/org/app/blobs/{DIGEST}", "repository:org/app:delete"),
        ("POST", "/v2/org/app/blobs/uploads/", "repository:org/app:pull,push"),
        (
            "POST",
            f"/v2/org/app/blobs/uploads/?mount={DIGEST}&from=lib/base",
            "repository:org/app:pull,push repository:lib/base:pull",
        ),
        ("PATCH", "/v2/org/app/blobs/uploads/abc", "repository:org/app:pull,push"),
        ("GET", f"/v2/org/app/referrers/{DIGEST}", "repository:org/app:pull"),
    ],
)
async def test_each_route_challenges_with_its_scope(
    client: httpx.AsyncClient, method: str, path: str, scope: str
) -> None:
    r = await client.request(method, path)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == bearer_challenge(scope)
    if method != "HEAD":
        assert error_codes(r) == ["UNAUTHORIZED"]


@pytest.mark.parametrize("controller", ["silly", "htpasswd", "token"], indirect=True)
async def test_the_liveness_probe_is_never_challenged(client: httpx.AsyncClient) -> None:
    r = await client.get("/")  # outside /v2/, as distribution answers it: probes carry no credentials
    assert r.status_code == 200 and r.content == b""
    assert "WWW-Authenticate" not in r.headers


@scheme("token")
async def test_a_token_with_the_scope_pushes_and_pulls(client: httpx.AsyncClient, signer: Signer) -> None:
    client.headers.update(bearer(signer.token([("repository", "org/app", ["pull", "push"])])))
    pushed = await Helper(client).image("org/app", "v1")
    r = await client.get("/v2/org/app/manifests/v1", headers={"Accept": pushed.media_type})
    assert r.status_code == 200
    tags = await client.get("/v2/org/app/tags/list")
    assert tags.json()["tags"] == ["v1"]


@scheme("token")
async def test_missing_scope_is_401_insufficient_scope(client: httpx.AsyncClient, signer: Signer) -> None:
    headers = bearer(signer.token([("repository", "org/app", ["pull"])]))
    r = await client.post("/v2/org/app/blobs/uploads/", headers=headers)
    assert_unauthorized(r, bearer_challenge("repository:org/app:pull,push", "insufficient_scope"))
    other = await client.get("/v2/org/other/tags/list", headers=headers)
    assert_unauthorized(other, bearer_challenge("repository:org/other:pull", "insufficient_scope"))
    catalog = await client.get("/v2/_catalog", headers=headers)
    assert_unauthorized(catalog, bearer_challenge("registry:catalog:*", "insufficient_scope"))
    delete = await client.delete(f"/v2/org/app/manifests/{DIGEST}", headers=headers)
    assert_unauthorized(delete, bearer_challenge("repository:org/app:delete", "insufficient_scope"))


@scheme("token")
async def test_a_mount_needs_pull_on_its_source(client: httpx.AsyncClient, signer: Signer) -> None:
    client.headers.update(bearer(signer.token([("repository", "lib/base", ["pull", "push"])])))
    layer = await Helper(client).blob("lib/base", b"shared layer")
    url = f"/v2/org/app/blobs/uploads/?mount={layer}&from=lib/base"
    only_target = bearer(signer.token([("repository", "org/app", ["pull", "push"])]))
    r = await client.post(url, headers=only_target)
    assert_unauthorized(
        r, bearer_challenge("repository:org/app:pull,push repository:lib/base:pull", "insufficient_scope")
    )
    both = bearer(
        signer.token([("repository", "org/app", ["pull", "push"]), ("repository", "lib/base", ["pull"])])
    )
    r = await client.post(url, headers=both)
    assert r.status_code == 201, r.text


@scheme("token")
@pytest.mark.parametrize(
    "claims",
    [{"exp": 1}, {"iss": "another-issuer"}, {"aud": "another-registry"}],
    ids=["expired", "wrong-issuer", "wrong-audience"],
)
async def test_bad_tokens_are_401_invalid_token(
    client: httpx.AsyncClient, signer: Signer, claims: dict[str, object]
) -> None:
    token = signer.token([("repository", "org/app", ["pull"])], claims=claims)
    r = await client.get("/v2/org/app/tags/list", headers=bearer(token))
    assert_unauthorized(r, bearer_challenge("repository:org/app:pull", "invalid_token"))


@scheme("token")
async def test_catalog_with_its_grant(client: httpx.AsyncClient, signer: Signer) -> None:
    r = await client.get("/v2/_catalog", headers=bearer(signer.token([("registry", "catalog", ["*"])])))
    assert r.status_code == 200 and r.json() == {"repositories": []}


@scheme("token")
# --- fast reads ----------------------------------------------------------------------------------
async def test_fast_reads_are_protected(fast_client: httpx.AsyncClient, signer: Signer) -> None:
    writer = bearer(signer.token([("repository", "org/app", ["pull", "push"])]))
    fast_client.headers.update(writer)
    pushed = await Helper(fast_client).image("org/app", "v1")
    del fast_client.headers["Authorization"]
    layer = sha256(b"layer-0-")
    reads = [
        ("GET", "/v2/org/app/manifests/v1"),
        ("HEAD", "/v2/org/app/manifests/v1"),
        ("GET", f"/v2/org/app/manifests/{pushed.digest}"),
        ("GET", f"/v2/org/app/blobs/{layer}"),
        ("HEAD", f"/v2/org/app/blobs/{layer}"),
    ]
    reader = bearer(signer.token([("repository", "org/app", ["pull"])]))
    stranger = bearer(signer.token([("repository", "org/other", ["pull"])]))
    for method, path in reads:
        anonymous = await fast_client.request(method, path)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["WWW-Authenticate"] == bearer_challenge("repository:org/app:pull")
        assert (await fast_client.request(method, path, headers=stranger)).status_code == 401, (method, path)
        assert (await fast_client.request(method, path, headers=reader)).status_code == 200, (method, path)
    # A manifest PUT (a fast write) needs push on the repository it names: pull alone, or push elsewhere, is refused
    # and nothing moves.
    other = json.dumps({**json.loads(pushed.content), "annotations": {"x": "y"}}).encode()
    elsewhere = bearer(signer.token([("repository", "org/other", ["pull", "push"])]))
    for headers in ({}, reader, elsewhere):
        put = await fast_client.put(
            "/v2/org/app/manifests/v1", content=other, headers={**headers, "Content-Type": OCI_MANIFEST}
        )
        assert put.status_code == 401, put.text
    got = await fast_client.get("/v2/org/app/manifests/v1", headers=reader)
    assert got.headers["Docker-Content-Digest"] == pushed.digest


# --- denied --------------------------------------------------------------------------------------
class DenyWrites(AccessController):
    """Authenticated clients may read; writes are refused outright (403)."""

    async def authorized(self, headers: Mapping[str, str], access: Sequence[Access]) -> Grant:
        if any(item.action != "pull" for item in access):
            raise Denied(detail=[item.detail() for item in access])
        return Grant(user="reader")


@scheme("deny-writes")
async def test_denied_is_403_in_the_envelope(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v2/org/app/tags/list")).status_code == 404
    r = await client.post("/v2/org/app/blobs/uploads/")
    assert r.status_code == 403
    assert error_codes(r) == ["DENIED"]
    assert r.json()["errors"][0]["message"] == "requested access to the resource is denied"
    assert "WWW-Authenticate" not in r.headers


# --- no auth section -----------------------------------------------------------------------------
async def test_without_an_auth_section_nothing_is_asked(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v2/")).status_code == 200
