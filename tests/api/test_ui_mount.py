"""The UI mounted in front of the in-process app: its paths answer, every other path is the registry's,
and what a page shows comes from the API (an invalid name is the API's 4xx, never a 500)."""

from __future__ import annotations

import base64
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from testkit.registry import Helper
from testkit.tokens import Signer

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.auth.token import TokenAccessController
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry
from registry_impl.ui import with_ui
from registry_impl.ui.app import CSP

pytestmark = pytest.mark.anyio


@pytest.fixture
async def ui(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = with_ui(create_app(state, validate_responses=True), delete_enabled=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://registry.test"
    ) as c:
        yield c


async def test_pages_answer_under_ui_with_the_security_headers(ui: httpx.AsyncClient) -> None:
    helper = Helper(ui)
    pushed = await helper.image("lib/app", "v1", layers=2)
    for path in ("/ui/", "/ui/repositories/lib/app", f"/ui/repositories/lib/app/-/manifests/{pushed.digest}"):
        response = await ui.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-security-policy"] == CSP
        assert "<script>" not in response.text  # no inline script
    page = (await ui.get("/ui/repositories/lib/app/-/manifests/v1")).text
    assert pushed.digest in page and "linux/amd64" in page
    assert (await ui.get("/ui")).status_code == 307


async def test_other_paths_are_the_registrys(ui: httpx.AsyncClient) -> None:
    assert (await ui.get("/v2/")).status_code == 200
    other = await ui.get("/uix")
    assert other.status_code == 404 and other.json()["errors"][0]["code"] == "UNSUPPORTED"


async def test_bad_input_is_a_4xx_page(ui: httpx.AsyncClient) -> None:
    invalid = await ui.get("/ui/repositories/UPPER/case")
    assert invalid.status_code == 400 and "NAME_INVALID" in invalid.text
    unknown = await ui.get("/ui/repositories/no/such/-/manifests/latest")
    assert unknown.status_code == 404
    bad_digest = await ui.get("/ui/repositories/lib/app/-/manifests/sha256:nothex")
    assert 400 <= bad_digest.status_code < 500


async def test_without_the_ui_its_paths_are_registry_404s(state: AppState) -> None:
    app = create_app(state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/ui/")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "UNSUPPORTED"


async def test_under_http_prefix_links_carry_the_prefix(state: AppState) -> None:
    from registry_impl.api.prefix import PathPrefix

    plain = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=plain, base_url="http://t") as c:
        await Helper(c).image("lib/app", "v1")  # the same storage, pushed without the prefix
    app = PathPrefix(with_ui(create_app(state), delete_enabled=True, root_path="/mirror"), "/mirror")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        page = await c.get("/mirror/ui/")
        assert page.status_code == 200
        assert 'href="/mirror/ui/repositories/lib/app"' in page.text
        assert 'href="/mirror/ui/static/ui.css"' in page.text
        deleted = await c.post("/mirror/ui/repositories/lib/app/-/delete/v1")
        assert deleted.headers["location"] == "/mirror/ui/repositories/lib/app?deleted=v1"


async def test_the_stored_usage_report_shows_beside_visible_repositories(state: AppState) -> None:
    from registry_impl.storage.usage import measure, save_report

    app = with_ui(create_app(state), delete_enabled=True, state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await Helper(c).image("lib/app", "v1", layers=2)
        assert 'id="usage-note"' not in (await c.get("/ui/")).text  # no report saved yet
        report = measure(state.registry)
        save_report(state.registry.driver, report)
        app = with_ui(create_app(state), delete_enabled=True, state=state)  # a fresh cache
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        size = report.repositories[0].size
        assert f'data-bytes="{size}"' in (await c.get("/ui/")).text
        page = (await c.get("/ui/repositories/lib/app")).text
        assert 'id="stored"' in page and "shared with other repositories" in page  # no access control


async def test_a_cross_site_delete_is_refused(ui: httpx.AsyncClient) -> None:
    await Helper(ui).image("lib/app", "v1")
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}):
        refused = await ui.post("/ui/repositories/lib/app/-/delete/v1", headers=headers)
        assert refused.status_code == 403, headers
    assert (await ui.get("/v2/lib/app/manifests/v1")).status_code == 200
    done = await ui.post("/ui/repositories/lib/app/-/delete/v1", headers={"Origin": "http://registry.test"})
    assert done.status_code == 303
    assert (await ui.get("/v2/lib/app/manifests/v1")).status_code == 404


async def test_an_unreachable_token_realm_is_a_502_page_not_a_500() -> None:
    """With token auth, a page's API calls fetch a token from the realm: a realm that refuses connections
    (the token service down) is the gateway failing, 502 with a page saying so, and the sign-in is not asked
    again (no Basic challenge: the credentials were never judged)."""
    with socket.socket() as held:  # a port nothing listens on while the test runs
        held.bind(("127.0.0.1", 0))
        realm = f"http://127.0.0.1:{held.getsockname()[1]}/token"
        signer = Signer.create(Path(tempfile.mkdtemp()) / "signer", issuer="issuer", service="registry.test")
        params = {"realm": realm, "service": signer.service, "issuer": signer.issuer}
        access = TokenAccessController.from_params({**params, "rootcertbundle": str(signer.bundle)})
        state = AppState(registry=Registry(InMemoryDriver(), Policy()), secret=b"s", access=access)
        app = with_ui(create_app(state), delete_enabled=True)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            credentials = {"Authorization": "Basic " + base64.b64encode(b"alice:secret").decode()}
            for path in ("/ui/", "/ui/repositories/lib/app", "/ui/repositories/lib/app/-/manifests/v1"):
                page = await c.get(path, headers=credentials)
                assert page.status_code == 502, (path, page.status_code, page.text[:300])
                assert "could not be reached" in page.text and "www-authenticate" not in page.headers
            deleted = await c.post(
                "/ui/repositories/lib/app/-/delete/v1",
                headers={**credentials, "Sec-Fetch-Site": "same-origin"},
            )
            assert deleted.status_code == 502
