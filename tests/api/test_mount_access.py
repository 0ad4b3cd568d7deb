"""Cross-repository mounts under access control: a mount reads only from the ``from`` it was authorized for.

With an ``auth`` scheme, a mount without ``from`` (or with an empty one) opens an upload session (202)
instead of linking a blob found anywhere in the registry, which the client may not be allowed to
pull; with ``from``, the client needs ``pull`` on it and the blob is looked for there only. Without
access control the registry-wide mount stays (``test_mount.py``).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import Helper, error_codes
from testkit.tokens import Signer, bearer

from registry_impl.api.context import AppState
from registry_impl.auth.base import AccessController
from registry_impl.auth.silly import SillyAccessController
from registry_impl.auth.token import TokenAccessController
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio

ALICE_LAYER = b"alice's private layer"


@pytest.fixture
def driver() -> StorageDriver:
    return InMemoryDriver()


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer.create(tmp_path / "signer", issuer="test-issuer", service="registry.test")


@pytest.fixture
def controller(request: pytest.FixtureRequest, signer: Signer) -> AccessController | None:
    kind = getattr(request, "param", "token")
    if kind == "silly":
        return SillyAccessController("https://auth.test/token", "registry.test")
    if kind == "token":
        params = {
            "realm": "https://auth.test/token",
            "service": signer.service,
            "issuer": signer.issuer,
            "rootcertbundle": str(signer.bundle),
        }
        return TokenAccessController.from_params(params)
    return None


@pytest.fixture
def state(driver: StorageDriver, policy: Policy, controller: AccessController | None) -> AppState:
    return AppState(registry=Registry(driver, policy), secret=b"test-secret", access=controller)


def token(signer: Signer, *grants: tuple[str, list[str]]) -> dict[str, str]:
    return bearer(signer.token([("repository", name, actions) for name, actions in grants]))


async def alice_pushes(client: httpx.AsyncClient, signer: Signer) -> tuple[str, str]:
    """alice/y gets a layer and an image; returns the layer's digest and the manifest's."""
    alice = Helper(client)
    client.headers.update(token(signer, ("alice/y", ["pull", "push"])))
    layer = await alice.blob("alice/y", ALICE_LAYER)
    manifest = await alice.image("alice/y", "v1")
    del client.headers["Authorization"]
    return layer, manifest.digest


def assert_session(r: httpx.Response, name: str) -> None:
    assert r.status_code == 202, r.text
    assert r.headers["Location"].startswith(f"http://registry.test/v2/{name}/blobs/uploads/")


@pytest.mark.parametrize("suffix", ["", "&from="], ids=["no-from", "empty-from"])
async def test_a_mount_without_from_opens_a_session_and_reveals_nothing(
    client: httpx.AsyncClient, signer: Signer, suffix: str
) -> None:
    layer, manifest = await alice_pushes(client, signer)
    bob = token(signer, ("bob/x", ["pull", "push"]))
    for digest in (layer, manifest):
        assert (await client.get(f"/v2/bob/x/blobs/{digest}", headers=bob)).status_code == 404
        r = await client.post(f"/v2/bob/x/blobs/uploads/?mount={digest}{suffix}", headers=bob)
        assert_session(r, "bob/x")
        r = await client.get(f"/v2/bob/x/blobs/{digest}", headers=bob)
        assert r.status_code == 404, r.text
        assert error_codes(r) == ["BLOB_UNKNOWN"]


async def test_a_mount_without_from_of_the_clients_own_blob_is_a_session_too(
    client: httpx.AsyncClient, signer: Signer
) -> None:
    """No exception for blobs the client could read: the rule is about the request, not the blob."""
    bob = token(signer, ("bob/x", ["pull", "push"]), ("bob/src", ["pull", "push"]))
    client.headers.update(bob)
    layer = await Helper(client).blob("bob/src", b"bob's layer")
    assert_session(await client.post(f"/v2/bob/x/blobs/uploads/?mount={layer}"), "bob/x")
    assert (await client.post(f"/v2/bob/x/blobs/uploads/?mount={layer}&from=bob/src")).status_code == 201


@pytest.mark.parametrize("controller", ["silly"], indirect=True)
async def test_any_scheme_refuses_the_registry_wide_mount(client: httpx.AsyncClient) -> None:
    client.headers["Authorization"] = "anything"
    layer = await Helper(client).blob("alice/y", ALICE_LAYER)
    assert_session(await client.post(f"/v2/bob/x/blobs/uploads/?mount={layer}"), "bob/x")
    assert (await client.get(f"/v2/bob/x/blobs/{layer}")).status_code == 404


@pytest.mark.parametrize("controller", [None], indirect=True)
async def test_without_access_control_a_mount_without_from_still_finds_the_blob(
    client: httpx.AsyncClient,
) -> None:
    layer = await Helper(client).blob("alice/y", ALICE_LAYER)
    r = await client.post(f"/v2/bob/x/blobs/uploads/?mount={layer}")
    assert r.status_code == 201, r.text
    assert (await client.get(f"/v2/bob/x/blobs/{layer}")).content == ALICE_LAYER


async def test_a_mount_from_needs_pull_on_from_and_reads_only_there(
    client: httpx.AsyncClient, signer: Signer
) -> None:
    layer, _ = await alice_pushes(client, signer)
    url = f"/v2/bob/x/blobs/uploads/?mount={layer}&from=alice/y"
    r = await client.post(url, headers=token(signer, ("bob/x", ["pull", "push"])))
    assert r.status_code == 401, r.text
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    # pull on a repository without the blob: nothing is found elsewhere
    bob = token(signer, ("bob/x", ["pull", "push"]), ("bob/other", ["pull"]))
    assert_session(
        await client.post(f"/v2/bob/x/blobs/uploads/?mount={layer}&from=bob/other", headers=bob), "bob/x"
    )
    assert (await client.get(f"/v2/bob/x/blobs/{layer}", headers=bob)).status_code == 404
    # pull on the source that has it: mounted
    allowed = token(signer, ("bob/x", ["pull", "push"]), ("alice/y", ["pull"]))
    assert (await client.post(url, headers=allowed)).status_code == 201
    assert (await client.get(f"/v2/bob/x/blobs/{layer}", headers=allowed)).content == ALICE_LAYER


async def test_a_repeated_from_is_400_not_a_mount_from_the_unchecked_one(
    client: httpx.AsyncClient, signer: Signer
) -> None:
    """Authorization once read the first ``from`` and the handler the last: one source checked, another mounted."""
    layer, _ = await alice_pushes(client, signer)
    bob = token(signer, ("bob/x", ["pull", "push"]), ("bob/public", ["pull"]))
    r = await client.post(f"/v2/bob/x/blobs/uploads/?mount={layer}&from=bob/public&from=alice/y", headers=bob)
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["NAME_INVALID"]
    assert r.json()["errors"][0]["detail"] == {"parameter": "from"}
    assert (await client.get(f"/v2/bob/x/blobs/{layer}", headers=bob)).status_code == 404
