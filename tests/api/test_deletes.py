"""DELETE /v2/<name>/manifests/<reference>: by digest (with every tag), by tag (only that tag), and the policy."""

from __future__ import annotations

import json

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.images import docker_image, index
from testkit.registry import OCI_MANIFEST, Helper, Pushed, error_codes, sha256

from registry_impl.api.context import AppState
from registry_impl.storage.registry import Policy

pytestmark = pytest.mark.anyio


async def tags(client: httpx.AsyncClient, name: str) -> list[str]:
    r = await client.get(f"/v2/{name}/tags/list")
    assert r.status_code == 200, r.text
    tag_list: list[str] = r.json()["tags"]
    return tag_list


async def assert_gone(client: httpx.AsyncClient, name: str, reference: str) -> None:
    r = await client.get(f"/v2/{name}/manifests/{reference}")
    assert r.status_code == 404, (reference, r.text)
    assert error_codes(r) == ["MANIFEST_UNKNOWN"]
    h = await client.head(f"/v2/{name}/manifests/{reference}")
    assert h.status_code == 404


async def assert_there(client: httpx.AsyncClient, name: str, reference: str, pushed: Pushed) -> None:
    r = await client.get(f"/v2/{name}/manifests/{reference}")
    assert r.status_code == 200, (reference, r.text)
    assert r.content == pushed.content


async def tagged_image(push: Helper, name: str, *tag_names: str, seed: bytes = b"") -> Pushed:
    image = await push.image(name, tag_names[0], seed=seed)
    for tag in tag_names[1:]:
        await push.manifest(name, tag, image.content)
    return image


# --- by digest -----------------------------------------------------------------------------------


async def test_delete_by_digest_removes_the_manifest_and_every_tag(
    client: httpx.AsyncClient, push: Helper
) -> None:
    image = await tagged_image(push, "app", "latest", "v1", "stable")
    other = await tagged_image(push, "app", "other", seed=b"other")
    r = await client.delete(f"/v2/app/manifests/{image.digest}")
    assert r.status_code == 202, r.text
    assert r.content == b""
    for reference in (image.digest, "latest", "v1", "stable"):
        await assert_gone(client, "app", reference)
    assert await tags(client, "app") == ["other"]
    await assert_there(client, "app", "other", other)


async def test_delete_by_digest_keeps_the_blobs(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("app", "v1")
    r = await client.delete(f"/v2/app/manifests/{image.digest}")
    assert r.status_code == 202
    for layer in json.loads(image.content)["layers"]:
        b = await client.head(f"/v2/app/blobs/{layer['digest']}")
        assert b.status_code == 200


async def test_deleted_manifest_can_be_pushed_again(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("app", "v1")
    assert (await client.delete(f"/v2/app/manifests/{image.digest}")).status_code == 202
    again = await push.manifest("app", "v1", image.content)
    assert again.digest == image.digest
    await assert_there(client, "app", "v1", image)
    await assert_there(client, "app", image.digest, image)


async def test_delete_twice_is_404_the_second_time(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("app", "v1")
    assert (await client.delete(f"/v2/app/manifests/{image.digest}")).status_code == 202
    r = await client.delete(f"/v2/app/manifests/{image.digest}")
    assert r.status_code == 404
    assert error_codes(r) == ["MANIFEST_UNKNOWN"]


async def test_delete_only_affects_its_repository(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("one", "v1")
    same = await push.image("two", "v1")
    assert same.digest == image.digest
    assert (await client.delete(f"/v2/one/manifests/{image.digest}")).status_code == 202
    await assert_gone(client, "one", "v1")
    await assert_there(client, "two", "v1", same)
    await assert_there(client, "two", image.digest, same)


async def test_deleting_a_child_keeps_the_index(client: httpx.AsyncClient, push: Helper) -> None:
    children = [await docker_image(push, "multi", None, seed=bytes([i])) for i in range(2)]
    listed = await index(push, "multi", "latest", children)
    assert (await client.delete(f"/v2/multi/manifests/{children[0].digest}")).status_code == 202
    await assert_gone(client, "multi", children[0].digest)
    await assert_there(client, "multi", "latest", listed)
    await assert_there(client, "multi", children[1].digest, children[1])


# --- by tag --------------------------------------------------------------------------------------


async def test_delete_by_tag_removes_only_that_tag(client: httpx.AsyncClient, push: Helper) -> None:
    image = await tagged_image(push, "app", "latest", "v1")
    r = await client.delete("/v2/app/manifests/latest")
    assert r.status_code == 202, r.text
    assert r.content == b""
    await assert_gone(client, "app", "latest")
    await assert_there(client, "app", image.digest, image)
    await assert_there(client, "app", "v1", image)
    assert await tags(client, "app") == ["v1"]


async def test_deleting_the_last_tag_leaves_an_empty_list(client: httpx.AsyncClient, push: Helper) -> None:
    image = await push.image("app", "only")
    assert (await client.delete("/v2/app/manifests/only")).status_code == 202
    assert await tags(client, "app") == []
    await assert_there(client, "app", image.digest, image)


async def test_deleted_tag_can_point_elsewhere(client: httpx.AsyncClient, push: Helper) -> None:
    await push.image("app", "v1", seed=b"1")
    assert (await client.delete("/v2/app/manifests/v1")).status_code == 202
    second = await push.image("app", "v1", seed=b"2")
    await assert_there(client, "app", "v1", second)


# --- unknown and invalid -------------------------------------------------------------------------


async def test_unknown_manifest_is_404_manifest_unknown(client: httpx.AsyncClient, push: Helper) -> None:
    await push.image("app", "v1")
    for reference in (sha256(b"never"), "nosuchtag"):
        r = await client.delete(f"/v2/app/manifests/{reference}")
        assert r.status_code == 404, reference
        assert error_codes(r) == ["MANIFEST_UNKNOWN"]
    assert await tags(client, "app") == ["v1"]


async def test_unknown_repository_is_404_manifest_unknown(client: httpx.AsyncClient) -> None:
    for reference in (sha256(b"x"), "latest"):
        r = await client.delete(f"/v2/nowhere/manifests/{reference}")
        assert r.status_code == 404
        assert error_codes(r) == ["MANIFEST_UNKNOWN"]


@pytest.mark.parametrize(
    ("reference", "code"),
    [(".hidden", "TAG_INVALID"), ("a" * 129, "TAG_INVALID"), ("sha256:abc", "DIGEST_INVALID")],
)
async def test_invalid_reference_is_400(
    client: httpx.AsyncClient, push: Helper, reference: str, code: str
) -> None:
    await push.image("app", "v1")
    r = await client.delete(f"/v2/app/manifests/{reference}")
    assert r.status_code == 400, r.text
    assert error_codes(r) == [code]


# --- policy --------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [Policy(delete_enabled=False)])
async def test_deletes_disabled_is_405_unsupported(client: httpx.AsyncClient, push: Helper) -> None:
    image = await tagged_image(push, "app", "v1")
    for reference in (image.digest, "v1", sha256(b"unknown"), "unknown"):
        r = await client.delete(f"/v2/app/manifests/{reference}")
        assert r.status_code == 405, (reference, r.text)
        assert error_codes(r) == ["UNSUPPORTED"]
    await assert_there(client, "app", "v1", image)
    await assert_there(client, "app", image.digest, image)


async def test_read_only_refuses_put_and_delete_but_serves(
    client: httpx.AsyncClient, push: Helper, state: AppState
) -> None:
    image = await push.image("app", "v1")
    state.registry.policy = Policy(delete_enabled=True, read_only=True)
    r = await client.put(
        "/v2/app/manifests/v2", content=image.content, headers={"Content-Type": OCI_MANIFEST}
    )
    assert r.status_code == 405, r.text
    assert error_codes(r) == ["UNSUPPORTED"]
    r = await client.put(
        f"/v2/app/manifests/{image.digest}", content=image.content, headers={"Content-Type": OCI_MANIFEST}
    )
    assert r.status_code == 405
    assert error_codes(r) == ["UNSUPPORTED"]
    for reference in (image.digest, "v1"):
        r = await client.delete(f"/v2/app/manifests/{reference}")
        assert r.status_code == 405
        assert error_codes(r) == ["UNSUPPORTED"]
    await assert_there(client, "app", "v1", image)
    assert await tags(client, "app") == ["v1"]


@pytest.mark.parametrize("policy", [Policy(read_only=True)])
async def test_read_only_refuses_an_invalid_put_as_unsupported(client: httpx.AsyncClient) -> None:
    for body in (b"{}", b"not json", b"x" * (5 * 1024 * 1024)):
        r = await client.put("/v2/app/manifests/v1", content=body, headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 405, r.text
        assert error_codes(r) == ["UNSUPPORTED"]
