"""``validation.manifests.urls``: layer URLs of pushed manifests are checked against allow and deny."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from testkit.images import DOCKER_CONFIG, DOCKER_FOREIGN, DOCKER_MANIFEST, descriptor
from testkit.registry import Helper

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.manifests import URLRules
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = [pytest.mark.api, pytest.mark.anyio]

RULES = URLRules.from_lists((r"^https?://([^/]+\.)*example\.com/",), (r"^https?://www\.example\.com/",))


@pytest.fixture
async def ruled(driver: StorageDriver) -> AsyncIterator[httpx.AsyncClient]:
    state = AppState(
        registry=Registry(driver, Policy(manifest_urls=RULES)), secret=b"s", max_tags=1000, max_catalog=1000
    )
    transport = httpx.ASGITransport(app=create_app(state, validate_responses=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        yield client


async def _push_foreign(client: httpx.AsyncClient, url: str) -> httpx.Response:
    config = b'{"os":"windows"}'
    await Helper(client).blob("win", config)
    document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": descriptor(DOCKER_CONFIG, config),
        "layers": [descriptor(DOCKER_FOREIGN, b"foreign", urls=[url])],
    }
    return await client.put(
        "/v2/win/manifests/ltsc",
        content=json.dumps(document).encode(),
        headers={"Content-Type": DOCKER_MANIFEST},
    )


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://mcr.example.com/layer", 201),  # allowed
        ("https://www.example.com/layer", 400),  # allowed, then denied
        ("https://elsewhere.test/layer", 400),  # not allowed
    ],
)
async def test_layer_urls_follow_allow_and_deny(ruled: httpx.AsyncClient, url: str, status: int) -> None:
    r = await _push_foreign(ruled, url)
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json()["errors"][0]["code"] == "MANIFEST_INVALID", r.text


def test_configuration_reaches_the_policy() -> None:
    from registry_impl.config import parse_config
    from registry_impl.server import build_state

    text = "version: 0.1\nstorage: inmemory\nvalidation: {manifests: {urls: {deny: ['^http://']}}}\n"
    rules = build_state(parse_config(text, {})).registry.policy.manifest_urls
    assert rules.deny is not None and rules.deny.pattern == "^http://" and rules.allow is None


def test_validation_disabled_turns_the_rules_off() -> None:
    from registry_impl.config import parse_config
    from registry_impl.server import build_state

    text = "version: 0.1\nstorage: inmemory\nvalidation: {disabled: true, manifests: {urls: {deny: ['^http://']}}}\n"
    assert build_state(parse_config(text, {})).registry.policy.manifest_urls == URLRules()
