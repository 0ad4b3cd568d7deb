"""The web UI in headless Chromium against real servers: images pushed with skopeo and oras, every page walked
and checked against the registry's own answers, a tag deleted, Swagger UI rendered, nothing fetched from
outside; access control with token auth (a user limited to one repository) and htpasswd (uvicorn)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from testkit.oci_layout import OciLayout
from testkit.processes import Server, ServerFailed, clean_environ, ours_command, run_to_exit, start_ours
from testkit.skopeo import Skopeo
from testkit.token_server import ISSUER, realm, signing_certificate, start_token_server, write_htpasswd

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        OCI_MANIFEST,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
SBOM_TYPE = "application/vnd.example.sbom.v1+json"
SIGNATURE_TYPE = "application/vnd.example.signature.v1"
SERVICE = "ui-registry"
USERS = {"admin": "admin-pw", "alice": "alice-pw"}
ACL = [
    {"account": "admin", "repository": "**", "actions": ["*"]},
    {"account": "admin", "type": "registry", "repository": "catalog", "actions": ["*"]},
    {"account": "alice", "repository": "alice/*", "actions": ["pull"]},
]


def sign_in(driver: Any, user: str | None, password: str = "") -> None:
    """What the browser sends after its Basic prompt: an Authorization header on every request (None: none)."""
    headers = {}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": headers})


def _by_css(driver: Any, selector: str) -> list[Any]:
    return list(driver.find_elements("css selector", selector))


def _one(driver: Any, selector: str) -> Any:
    return driver.find_element("css selector", selector)


def _wait(driver: Any, selector: str, timeout: float = 15.0) -> list[Any]:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: _by_css(d, selector))
    return _by_css(driver, selector)


def _navigate(driver: Any, element: Any, ready: str) -> None:
    """Click ``element`` and wait until the next page is loaded and shows ``ready``."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element("css selector", "html")
    element.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(page))
    _wait(driver, ready)


def manifest(server: Server, name: str, reference: str) -> tuple[bytes, str, str]:
    with server.client() as client:
        response = client.get(f"/v2/{name}/manifests/{reference}", headers={"Accept": ACCEPT})
        response.raise_for_status()
        return response.content, response.headers["content-type"], response.headers["docker-content-digest"]


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """granian, no authentication, deletes enabled, the UI on by default (nothing about it in the config)."""
    try:
        server = start_ours(tmp_path_factory.mktemp("ui-granian"))
    except ServerFailed as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pushed(ours: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An image and a multi-platform index with skopeo; an SBOM and a signature referring to the image with oras."""
    skopeo = Skopeo.find(tmp_path_factory.mktemp("skopeo"))
    oras_client = pytest.importorskip("oras.client")
    oras_oci = pytest.importorskip("oras.oci")
    if skopeo is None:
        pytest.fail("skopeo is required (apt-get install skopeo)")
    layout = OciLayout(tmp_path_factory.mktemp("layout") / "src", seed=18)
    layout.add_image("single", layers=3)
    layout.add_index("multi", layers=1)
    skopeo.copy(f"oci:{layout.path}:single", ours.ref("apps/web", "1.0"), "--format", "oci")
    skopeo.copy(f"oci:{layout.path}:multi", ours.ref("apps/multi", "2"), "--all")
    skopeo.copy(f"oci:{layout.path}:single", ours.ref("alice/app", "v1"), "--format", "oci")

    body, media_type, digest = manifest(ours, "apps/web", "1.0")
    with ours.client() as client:  # a second tag on the same manifest, for the delete test
        client.put(
            "/v2/apps/web/manifests/old", content=body, headers={"Content-Type": media_type}
        ).raise_for_status()
    subject = oras_oci.Subject(mediaType=media_type, digest=digest, size=len(body))
    work = tmp_path_factory.mktemp("oras")
    (work / "sbom.json").write_text(json.dumps({"spdxVersion": "SPDX-2.3"}))
    (work / "sig.bin").write_bytes(b"signature bytes")
    (work / "config.json").write_text("{}")
    oras = oras_client.OrasClient(hostname=ours.host, insecure=True)
    cwd = Path.cwd()
    os.chdir(work)  # oras-py names layers after the paths it was given
    try:
        for tag, file, kind in (("sbom", "sbom.json", SBOM_TYPE), ("sig", "sig.bin", SIGNATURE_TYPE)):
            response = oras.push(
                target=f"{ours.host}/apps/web:{tag}",
                files=[f"{file}:application/octet-stream"],
                manifest_config=f"config.json:{kind}",
                subject=subject,
                disable_path_validation=True,
                quiet=True,
            )
            assert response.status_code == 201, response.text
    finally:
        os.chdir(cwd)
    command = ours_command()
    assert command is not None
    status, out = run_to_exit([*command, "usage", "--save", "--json", str(ours.config)], clean_environ())
    assert status == 0, out
    return {
        "usage": {r["name"]: r for r in json.loads(out)["repositories"]},
        "web_digest": digest,
        "web_body": body,
        "sbom": manifest(ours, "apps/web", "sbom")[2],
        "sig": manifest(ours, "apps/web", "sig")[2],
    }


def _same_origin_only(driver: Any, server: Server) -> None:
    """Every resource the page loaded came from the registry itself, and the console has no error (CSP)."""
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith(server.url) for name in names), names
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_walk_repositories_repository_manifest_referrers(
    browser: Any, ours: Server, pushed: dict[str, Any], screenshots: Path
) -> None:
    sign_in(browser, None)
    browser.get(f"{ours.url}/ui")
    rows = {r.find_element("css selector", "a").text: r for r in _by_css(browser, "#repositories tbody tr")}
    assert set(rows) == {"alice/app", "apps/multi", "apps/web"}
    assert rows["apps/web"].find_elements("css selector", "td")[1].text == "4"  # 1.0, old, sbom, sig
    stored = rows["apps/web"].find_element(
        "css selector", "td.stored"
    )  # what `registry usage --save` measured
    assert stored.get_attribute("data-bytes") == str(pushed["usage"]["apps/web"]["size"])
    _same_origin_only(browser, ours)
    browser.save_screenshot(str(screenshots / "repositories.png"))

    from selenium.webdriver.common.keys import Keys

    _one(browser, "body").send_keys(Keys.TAB)  # keyboard: the first stop skips to the content
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
    _one(browser, "#prefix").send_keys("alice")
    _navigate(browser, _one(browser, ".filter button"), "#repositories")
    assert [a.text for a in _by_css(browser, "#repositories tbody a")] == ["alice/app"]

    browser.get(f"{ours.url}/ui/")
    rows_links = {a.text: a for a in _by_css(browser, "#repositories tbody a")}
    _navigate(browser, rows_links["apps/web"], "#tags")
    tag_row = _one(browser, 'tr[data-tag="1.0"]')
    body = json.loads(pushed["web_body"])
    size = body["config"]["size"] + sum(layer["size"] for layer in body["layers"])
    assert tag_row.find_element("css selector", "td[data-bytes]").get_attribute("data-bytes") == str(size)
    assert "linux/amd64" in tag_row.text
    assert OCI_MANIFEST in tag_row.text
    assert pushed["web_digest"][:19] in tag_row.find_element("css selector", "a.digest").text
    assert all(f"{ours.host}/apps/web:" in c.text for c in _by_css(browser, "code.cmd"))
    browser.save_screenshot(str(screenshots / "repository.png"))

    _navigate(browser, tag_row.find_element("css selector", "a.tag"), "#digest")
    assert _one(browser, "#digest").text == pushed["web_digest"]
    assert _one(browser, "#raw-json").get_attribute("textContent") == pushed["web_body"].decode()
    assert len(_by_css(browser, "#layers tbody tr")) == 3
    assert _one(browser, "#total-size").get_attribute("data-bytes") == str(size)
    assert _one(browser, "#platform").text == "linux/amd64"
    groups = {ul.get_attribute("data-kind"): ul for ul in _by_css(browser, "#referrers ul.referrers")}
    assert set(groups) == {"SBOMs", "Signatures"}
    assert pushed["sbom"][:19] in groups["SBOMs"].text
    assert pushed["sig"][:19] in groups["Signatures"].text
    copy = _one(browser, 'button[data-copy="pull-docker"]')
    copy.click()  # the clipboard answers asynchronously
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda _: copy.get_attribute("data-copied"))
    assert copy.get_attribute("data-copied") == f"docker pull {ours.host}/apps/web:1.0"
    _same_origin_only(browser, ours)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(screenshots / "manifest.png"))
    browser.set_window_size(400, 860)  # a phone: the layout narrows, nothing needs a sideways scroll
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 400
    browser.save_screenshot(str(screenshots / "manifest-phone.png"))
    browser.set_window_size(1280, 900)

    _navigate(
        browser, groups["Signatures"].find_element("css selector", "a"), "#subject"
    )  # links its subject
    assert _one(browser, "#digest").text == pushed["sig"]
    assert pushed["web_digest"][:19] in _one(browser, "#subject").text


def test_index_lists_its_platforms_and_links_each_child(
    browser: Any, ours: Server, pushed: dict[str, Any]
) -> None:
    sign_in(browser, None)
    body, _, digest = manifest(ours, "apps/multi", "2")
    index = json.loads(body)
    browser.get(f"{ours.url}/ui/repositories/apps/multi/-/manifests/2")
    assert _one(browser, "#digest").text == digest
    rows = _by_css(browser, "#children tbody tr")
    platforms = [f"{m['platform']['os']}/{m['platform']['architecture']}" for m in index["manifests"]]
    assert [r.find_elements("css selector", "td")[0].text for r in rows] == platforms
    _navigate(browser, rows[-1].find_element("css selector", "a.digest"), "#platform")
    assert _one(browser, "#digest").text == index["manifests"][-1]["digest"]
    assert _one(browser, "#platform").text == platforms[-1]


def test_delete_a_tag(browser: Any, ours: Server, pushed: dict[str, Any]) -> None:
    sign_in(browser, None)
    browser.get(f"{ours.url}/ui/repositories/apps/web")
    _one(browser, 'tr[data-tag="old"] button.danger').click()
    browser.switch_to.alert.accept()
    assert "Deleted old" in _wait(browser, "#deleted")[0].text
    assert not _by_css(browser, 'tr[data-tag="old"]')
    with ours.client() as client:
        tags = client.get("/v2/apps/web/tags/list").json()["tags"]
    assert "old" not in tags and "1.0" in tags


def test_swagger_ui_renders_every_operation_offline(browser: Any, ours: Server, screenshots: Path) -> None:
    sign_in(browser, None)
    with ours.client() as client:
        spec = yaml.safe_load(client.get("/ui/api/openapi.yaml").text)
    operations = sum(len(item) for item in spec["paths"].values())
    browser.get(f"{ours.url}/ui/api/")
    _wait(browser, ".opblock")
    assert len(_by_css(browser, ".opblock")) == operations
    _same_origin_only(browser, ours)
    browser.save_screenshot(str(screenshots / "swagger.png"))

    browser.get(f"{ours.url}/ui/api/reference")
    assert "Docker Registry HTTP API V2" in _one(browser, "#reference h1").text
    assert len(_by_css(browser, "#reference table")) >= 2


def test_pages_send_a_strict_content_security_policy(ours: Server) -> None:
    with ours.client() as client:
        for path in ("/ui/", "/ui/api/", "/ui/api/reference", "/ui/repositories/nothing/here"):
            csp = client.get(path).headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert (
            client.post(
                "/ui/repositories/apps/web/-/delete/1.0", headers={"Sec-Fetch-Site": "cross-site"}
            ).status_code
            == 403
        )


# --- access control ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def token_registry(
    ours: Server, pushed: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """granian with token auth over the same storage: admin may do anything, alice pull alice/* only."""
    tokens = start_token_server(tmp_path_factory.mktemp("tokens"), users=USERS, acl=ACL, service=SERVICE)
    auth = {
        "token": {
            "realm": realm(tokens),
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(signing_certificate(tokens)),
        }
    }
    try:
        server = start_ours(tmp_path_factory.mktemp("ui-token"), {"auth": auth}, root=ours.root)
    except BaseException:
        tokens.stop()
        raise
    yield server
    server.stop()
    tokens.stop()


def test_token_auth_a_user_sees_only_what_their_scopes_allow(browser: Any, token_registry: Server) -> None:
    sign_in(browser, "alice", "alice-pw")
    browser.get(f"{token_registry.url}/ui/")
    assert _by_css(browser, "#no-catalog")  # alice has no registry:catalog:* grant
    assert not _by_css(browser, "#repositories")
    _one(browser, "#open-name").send_keys("alice/app")
    _navigate(browser, _one(browser, "#open-form button"), "#tags")
    assert _wait(browser, 'tr[data-tag="v1"]')
    assert not _by_css(browser, "button.danger")  # alice may pull alice/app, not delete in it
    # what other repositories share would tell alice whether content she guessed exists where she may not look
    stored = _one(browser, "#stored").text
    assert stored.startswith("Stored:") and "shared" not in stored
    browser.get(f"{token_registry.url}/ui/repositories/apps/web")
    assert _one(browser, ".error").get_attribute("data-status") == "403"
    assert not _by_css(browser, "#tags")

    sign_in(browser, "admin", "admin-pw")
    browser.get(f"{token_registry.url}/ui/")
    assert {a.text for a in _by_css(browser, "#repositories tbody a")} == {
        "alice/app",
        "apps/multi",
        "apps/web",
    }
    browser.get(f"{token_registry.url}/ui/repositories/alice/app")
    assert _by_css(browser, 'tr[data-tag="v1"] button.danger')  # admin may delete
    assert "shared with other repositories" in _one(browser, "#stored").text  # admin may list the catalog

    sign_in(browser, "alice", "wrong")
    browser.get(f"{token_registry.url}/ui/repositories/alice/app")
    assert not _by_css(browser, "#tags")  # Chromium shows its sign-in prompt (headless: an empty page)
    sign_in(browser, None)
    with token_registry.client(auth=("alice", "wrong")) as client:
        refused = client.get("/ui/repositories/alice/app")
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic ")


@pytest.fixture(scope="module")
def htpasswd_uvicorn(
    ours: Server, pushed: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("ui-uvicorn")
    users = write_htpasswd(work / "htpasswd", {"bob": "bob-pw"})
    auth = {"htpasswd": {"realm": "ui", "path": str(users)}}
    server = start_ours(work, {"auth": auth}, root=ours.root, server="uvicorn")
    yield server
    server.stop()


def test_htpasswd_on_uvicorn_refuses_a_user_without_access(browser: Any, htpasswd_uvicorn: Server) -> None:
    with htpasswd_uvicorn.client() as client:
        anonymous = client.get("/ui/")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic ")  # the browser's prompt

    sign_in(browser, "mallory", "guess")
    browser.get(f"{htpasswd_uvicorn.url}/ui/repositories/apps/web")
    assert not _by_css(browser, "#tags")  # Chromium shows its sign-in prompt (headless: an empty page)
    with htpasswd_uvicorn.client(auth=("mallory", "guess")) as client:
        assert client.get("/ui/repositories/apps/web").status_code == 401

    sign_in(browser, "bob", "bob-pw")
    browser.get(f"{htpasswd_uvicorn.url}/ui/repositories/apps/web")
    assert _by_css(browser, 'tr[data-tag="1.0"]')
    sign_in(browser, None)
