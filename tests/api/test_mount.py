"""POST /v2/<name>/blobs/uploads/?mount=<digest>[&from=<repo>]: cross-repository blob mounts.

Covers the "Cross-Repository Blob Mount" part of the OCI conformance push workflow
(``02_push_test.go``). distribution-spec v1.1.1, "Mounting a blob from another repository": a
successful mount answers 201 with the blob's Location; "if a registry does not support
cross-repository mounting or is unable to mount the requested blob, it SHOULD return a 202" (an
upload session the client may continue), and "the registry MAY treat the from parameter as
optional, and it MAY cross-mount the blob if it can be found" — this registry does.
"""

from __future__ import annotations

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import Helper, error_codes, sha256
from testkit.uploads import OCTET, linked, sessions, sha512, upload_id, with_query

from registry_impl.api.context import AppState
from registry_impl.storage.registry import Policy

pytestmark = pytest.mark.anyio

DATA = b"a layer shared between repositories"
DIGEST = sha256(DATA)


async def mount(
    client: httpx.AsyncClient, name: str, digest: str, source: str | None = None
) -> httpx.Response:
    params = {"mount": digest} if source is None else {"mount": digest, "from": source}
    return await client.post(f"/v2/{name}/blobs/uploads/", params=params)


def assert_session_in(r: httpx.Response, name: str) -> str:
    """A 202 fallback: an upload session of ``name``; returns its Location."""
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    assert location.startswith(f"http://registry.test/v2/{name}/blobs/uploads/")
    assert r.headers["Range"] == "0-0"
    assert r.headers["Docker-Upload-UUID"] == upload_id(location)
    return location


async def test_mount_from_a_repository_that_has_the_blob(
    client: httpx.AsyncClient, push: Helper, state: AppState
) -> None:
    await push.blob("library/source", DATA)
    r = await mount(client, "library/target", DIGEST, "library/source")
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"http://registry.test/v2/library/target/blobs/{DIGEST}"
    assert r.headers["Docker-Content-Digest"] == DIGEST
    assert r.headers["Content-Length"] == "0"
    r = await client.get(f"/v2/library/target/blobs/{DIGEST}")
    assert r.status_code == 200
    assert r.content == DATA
    assert linked(state.registry.driver, "library/target", DIGEST)
    assert sessions(state.registry.driver, "library/target") == []  # no session was opened


async def test_mounted_blob_outlives_the_source_link(client: httpx.AsyncClient, push: Helper) -> None:
    await push.blob("source", DATA)
    assert (await mount(client, "target", DIGEST, "source")).status_code == 201
    assert (await client.delete(f"/v2/source/blobs/{DIGEST}")).status_code == 202
    assert (await client.get(f"/v2/target/blobs/{DIGEST}")).content == DATA


async def test_mount_of_a_blob_already_linked_is_201(client: httpx.AsyncClient, push: Helper) -> None:
    await push.blob("source", DATA)
    await push.blob("target", DATA)
    r = await mount(client, "target", DIGEST, "source")
    assert r.status_code == 201
    assert (await mount(client, "source", DIGEST, "source")).status_code == 201


async def test_mount_from_a_repository_lacking_the_blob_falls_back_to_a_session(
    client: httpx.AsyncClient, push: Helper, state: AppState
) -> None:
    await push.blob("elsewhere", DATA)  # in the registry, but not in the named source
    await push.blob("source", b"another blob")
    r = await mount(client, "target", DIGEST, "source")
    location = assert_session_in(r, "target")
    assert not linked(state.registry.driver, "target", DIGEST)
    assert (await client.get(f"/v2/target/blobs/{DIGEST}")).status_code == 404
    # the session is a real one: the client pushes the blob through it
    r = await client.put(with_query(location, digest=DIGEST), content=DATA, headers=OCTET)
    assert r.status_code == 201
    assert (await client.get(f"/v2/target/blobs/{DIGEST}")).content == DATA


async def test_mount_from_an_unknown_repository_falls_back(client: httpx.AsyncClient, push: Helper) -> None:
    await push.blob("elsewhere", DATA)
    assert_session_in(await mount(client, "target", DIGEST, "no/such/repo"), "target")


async def test_mount_after_the_source_deleted_its_link_falls_back(
    client: httpx.AsyncClient, push: Helper
) -> None:
    await push.blob("source", DATA)
    assert (await client.delete(f"/v2/source/blobs/{DIGEST}")).status_code == 202
    assert_session_in(await mount(client, "target", DIGEST, "source"), "target")


async def test_mount_without_from_finds_the_blob_anywhere(
    client: httpx.AsyncClient, push: Helper, state: AppState
) -> None:
    await push.blob("some/other", DATA)
    r = await mount(client, "target", DIGEST)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"http://registry.test/v2/target/blobs/{DIGEST}"
    assert r.headers["Docker-Content-Digest"] == DIGEST
    assert (await client.get(f"/v2/target/blobs/{DIGEST}")).content == DATA
    assert sessions(state.registry.driver, "target") == []


async def test_mount_without_from_of_an_unknown_blob_falls_back(
    client: httpx.AsyncClient, push: Helper, state: AppState
) -> None:
    await push.blob("some/other", b"unrelated")
    r = await mount(client, "target", sha256(b"nowhere"))
    location = assert_session_in(r, "target")
    assert sessions(state.registry.driver, "target") == [upload_id(location)]


@pytest.mark.parametrize("source", ["UPPER", "a..b", "a//b", "-a", "x" * 256, ""])
async def test_mount_with_a_malformed_from_falls_back_to_a_session(
    client: httpx.AsyncClient, push: Helper, state: AppState, source: str
) -> None:
    """A ``from`` that names no possible repository is a mount the registry is unable to do: 202.

    The spec answers a failed mount with a session ("unable to mount the requested blob ... SHOULD
    return a 202"), distribution ignores a ``from`` it cannot parse and opens a session, and the
    client loses nothing: it continues with a plain upload. An empty ``from`` is "no source".
    """
    await push.blob("source", DATA)
    r = await mount(client, "target", DIGEST, source)
    if source == "":
        assert r.status_code == 201  # treated as absent: found anywhere in the registry
        return
    assert_session_in(r, "target")
    assert not linked(state.registry.driver, "target", DIGEST)


@pytest.mark.parametrize("digest", ["sha256:abc", "md5:" + "0" * 32, "sha256:" + "A" * 64, "nonsense"])
async def test_mount_with_a_malformed_digest_is_400(
    client: httpx.AsyncClient, push: Helper, state: AppState, digest: str
) -> None:
    """Unlike ``from``, ``mount`` names the content being pushed: a malformed one is the client's error."""
    await push.blob("source", DATA)
    r = await mount(client, "target", digest, "source")
    assert r.status_code == 400
    assert error_codes(r) == ["DIGEST_INVALID"]
    assert sessions(state.registry.driver, "target") == []


async def test_mount_into_an_invalid_name_is_400(client: httpx.AsyncClient, push: Helper) -> None:
    await push.blob("source", DATA)
    r = await mount(client, "Target", DIGEST, "source")
    assert r.status_code == 400
    assert error_codes(r) == ["NAME_INVALID"]


async def test_sha512_mount(client: httpx.AsyncClient) -> None:
    digest = sha512(DATA)
    r = await client.post("/v2/source/blobs/uploads/", params={"digest": digest}, content=DATA, headers=OCTET)
    assert r.status_code == 201
    r = await mount(client, "target", digest, "source")
    assert r.status_code == 201
    assert r.headers["Docker-Content-Digest"] == digest
    assert (await client.get(f"/v2/target/blobs/{digest}")).content == DATA


class TestReadOnly:
    @pytest.fixture
    def policy(self) -> Policy:
        return Policy(read_only=True)

    async def test_mount_is_405_unsupported(self, client: httpx.AsyncClient, state: AppState) -> None:
        digest = state.registry.blobs.put(DATA)
        state.registry.repository("source").blobs.link(digest)
        r = await mount(client, "target", digest, "source")
        assert r.status_code == 405
        assert error_codes(r) == ["UNSUPPORTED"]
        assert not linked(state.registry.driver, "target", digest)
