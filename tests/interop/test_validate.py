"""`registry-validate` against real registries: ours passes, distribution 2.8.2 shows exactly its known gaps,
faulty registries are caught by the named check, and authentication (Basic, Bearer over TLS) works."""

from __future__ import annotations

import ssl
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from registry_toolkit.validate import Options, Report, Status, run
from registry_toolkit.validate.session import MAX_ANSWER
from testkit.differences import INTENDED
from testkit.faults import FAULTS, Buffered, Fault, Headers
from testkit.processes import Server, Spawner
from testkit.threaded import serve
from testkit.tls import CertificateAuthority
from testkit.token_server import ISSUER, realm, signing_certificate, start_token_server, write_htpasswd

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.manifests import SparseRules
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.interop

# Each check distribution 2.8.2 fails, with the intended difference (testkit.differences) that explains it.
REFERENCE_GAPS = {
    "pull.manifest-malformed-digest": "malformed-digest",
    "push.chunk-out-of-order": "chunk-out-of-order",
    "push.chunk-retry": "chunk-out-of-order",
    "discovery.tags-paginated": "tags-n",
    "management.delete-tag": "delete-tag",
    "docker.blob-range-forms": "range-416-length",
}
# Optional features it lacks: unsupported-optional by default, failures when expected.
REFERENCE_OPTIONAL = {
    "push.monolithic-post": "monolithic-post",
    "discovery.subject-header": "referrers",
    "discovery.referrers-empty": "referrers",
    "discovery.referrers-empty-repository": "referrers",
    "discovery.referrers-list": "referrers",
    "discovery.referrers-filter": "referrers",
    "discovery.referrers-absent-subject": "referrers",
}
# OCI 1.2 and the redesigned suite's sha512 data: distribution 2.8.2 has neither (unsupported-optional).
REFERENCE_UNSUPPORTED = {
    *REFERENCE_OPTIONAL,
    "push.mount-without-from",
    "push.manifest-tag-params",
    "push.manifest-sha512",
    "push.manifest-sparse",
}


def validate_command() -> list[str]:
    beside = Path(sys.executable).parent / "registry-validate"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "registry_toolkit.validate"]


def statuses(report: Report, status: Status) -> set[str]:
    return {r.check_id for r in report.results if r.status is status}


def junit_failures(path: Path) -> set[str]:
    root = ET.parse(path).getroot()
    return {case.get("name", "") for case in root.iter("testcase") if case.find("failure") is not None}


# --- ours -----------------------------------------------------------------------------------------
def test_ours_passes_every_check(ours: Server, tmp_path: Path) -> None:
    junit, page = tmp_path / "ours.xml", tmp_path / "ours.html"
    done = subprocess.run(
        [*validate_command(), ours.url, "--expect",
         "referrers,monolithic-post,mount-without-from,deletes,tag-params,sha512",
         "--junit", str(junit), "--html", str(page)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "CONFORMANT: 81 checks" in done.stdout
    assert junit_failures(junit) == set()
    assert int(ET.parse(junit).getroot().get("tests", "0")) == 81
    assert "Conformant: no check failed" in page.read_text()


# --- distribution 2.8.2 ---------------------------------------------------------------------------
def test_reference_shows_exactly_its_known_gaps(reference: Server) -> None:
    report = run(Options(url=reference.url))
    assert statuses(report, Status.FAIL) == set(REFERENCE_GAPS), [r.message for r in report.failed]
    assert statuses(report, Status.UNSUPPORTED) == REFERENCE_UNSUPPORTED
    assert statuses(report, Status.SKIP) == {"discovery.tags-link"}  # it follows tags-paginated
    assert set(REFERENCE_GAPS.values()) <= set(INTENDED)


def test_reference_expected_features_become_failures(reference: Server, tmp_path: Path) -> None:
    junit, page = tmp_path / "reference.xml", tmp_path / "reference.html"
    done = subprocess.run(
        [*validate_command(), reference.url, "--expect", "referrers,monolithic-post", "-q",
         "--junit", str(junit), "--html", str(page)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:]
    assert junit_failures(junit) == set(REFERENCE_GAPS) | set(REFERENCE_OPTIONAL)
    assert set(REFERENCE_OPTIONAL.values()) <= {"referrers", "monolithic-post"}
    html = page.read_text()
    assert "Not conformant: 13 check(s) failed" in html
    assert "expected HTTP 416 for a chunk out of order, got 202" in html  # the failing exchange is shown
    assert "OCI end-5: PATCH /v2/{name}/blobs/uploads/{uuid}" in html


# --- faulty registries ----------------------------------------------------------------------------
@pytest.fixture
def in_process_app() -> Any:
    state = AppState(
        registry=Registry(InMemoryDriver(), Policy(delete_enabled=True, read_only=False)), secret=b"faults"
    )
    return create_app(state)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_a_faulty_registry_is_caught_by_the_named_check(in_process_app: Any, fault: Fault) -> None:
    with serve(fault.wrap(in_process_app)) as url:
        report = run(Options(url=url, workflows=("pull", "push", "discovery", "docker")))
    failed = statuses(report, Status.FAIL)
    assert fault.caught_by <= failed, f"{fault.name}: failed {sorted(failed)}"
    for check_id in fault.caught_by:
        result = report.by_id(check_id)
        assert result.failing is not None and result.message, check_id


def test_sparse_manifests_pass_when_configured_and_are_optional_otherwise(in_process_app: Any) -> None:
    sparse = Policy(delete_enabled=True, sparse=SparseRules(platforms="none", layers="none"))
    with serve(create_app(AppState(registry=Registry(InMemoryDriver(), sparse), secret=b"s"))) as url:
        report = run(Options(url=url, workflows=("push",), expect=frozenset({"sparse"})))
    assert report.by_id("push.manifest-sparse").status is Status.PASS, report.by_id(
        "push.manifest-sparse"
    ).message
    with serve(in_process_app) as url:
        report = run(Options(url=url, workflows=("push",)))
    assert report.by_id("push.manifest-sparse").status is Status.UNSUPPORTED


def test_the_unfaulted_app_passes(in_process_app: Any) -> None:
    with serve(in_process_app) as url:
        report = run(Options(url=url))
    assert report.ok, [(r.check_id, r.message) for r in report.failed]


# --- authentication -------------------------------------------------------------------------------
USERS = {"alice": "alice-pw"}


def test_basic_auth_htpasswd(spawn: Spawner, tmp_path: Path) -> None:
    users = write_htpasswd(tmp_path / "users.htpasswd", USERS)
    server = spawn.ours("htpasswd", {"auth": {"htpasswd": {"realm": "Validate", "path": str(users)}}})
    refused = run(Options(url=server.url, workflows=("pull",)))
    assert statuses(refused, Status.FAIL) >= {"base.api"}
    assert "401" in refused.by_id("base.api").message
    report = run(Options(url=server.url, username="alice", password="alice-pw"))
    assert report.ok, [(r.check_id, r.message) for r in report.failed]


@pytest.fixture
def token_server(spawn: Spawner, tmp_path: Path) -> Iterator[tuple[Server, CertificateAuthority]]:
    ca = CertificateAuthority.create(tmp_path / "ca")
    cert = ca.issue("server", hosts=("127.0.0.1", "localhost"))
    server = start_token_server(
        tmp_path / "token-server",
        users=USERS,
        acl=[{"account": "alice", "repository": "**", "actions": ["*"]}],
        service="validate-registry",
        tls=cert,
        verify=ssl.create_default_context(cafile=str(ca.cert_path)),
    )
    spawn.servers.append(server)
    yield server, ca


def test_bearer_token_flow_over_tls(
    spawn: Spawner, token_server: tuple[Server, CertificateAuthority]
) -> None:
    tokens, ca = token_server
    cert = ca.issue("registry", hosts=("127.0.0.1", "localhost"))
    overrides = {
        "http": {"tls": {"certificate": str(cert.cert_path), "key": str(cert.key_path)}},
        "auth": {
            "token": {
                "realm": realm(tokens),
                "service": "validate-registry",
                "issuer": ISSUER,
                "rootcertbundle": str(signing_certificate(tokens)),
            }
        },
    }
    trusting = ssl.create_default_context(cafile=str(ca.cert_path))
    server = spawn.ours("token", overrides, scheme="https", verify=trusting)
    report = run(Options(url=server.url, username="alice", password="alice-pw", verify=str(ca.cert_path)))
    assert report.ok, [(r.check_id, r.message) for r in report.failed]
    untrusted = run(Options(url=server.url, username="alice", password="alice-pw", workflows=("pull",)))
    assert "certificate" in untrusted.by_id("base.api").message.lower()
    insecure = run(Options(url=server.url, username="alice", password="alice-pw", verify=False, workflows=()))
    assert insecure.ok


# --- answers past the validator's bound -----------------------------------------------------------
@pytest.mark.parametrize(
    ("fault_name", "check_id", "said"),
    [
        ("endless-tag-list", "discovery.tags-list", f"is larger than {MAX_ANSWER} bytes"),
        ("catalog-gzip-bomb", "docker.catalog", f"is larger than {MAX_ANSWER} bytes once decoded"),
    ],
)
def test_an_oversized_answer_fails_its_check_at_the_bound(
    in_process_app: Any, fault_name: str, check_id: str, said: str
) -> None:
    """The body is read no further than ``MAX_ANSWER`` (raw or inflated): the check fails saying so, rather
    than the validator holding 96 MiB (or failing later, on the JSON)."""
    fault = next(f for f in FAULTS if f.name == fault_name)
    with serve(fault.wrap(in_process_app)) as url:
        report = run(Options(url=url, workflows=("discovery", "docker")))
    result = report.by_id(check_id)
    assert result.status is Status.FAIL
    assert said in result.message and result.failing is not None and said in result.failing.error


def test_a_chunk_minimum_past_what_the_validator_sends_skips_the_chunked_checks(in_process_app: Any) -> None:
    """A registry asking for chunks of a petabyte gets no chunked push (skipped, saying why), not a
    validator that tries to make a blob of twice that; everything else still runs."""

    def huge_minimum(scope: Any, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if scope["method"] == "POST" and status == 202:
            headers = [*headers, (b"oci-chunk-min-length", str(10**15).encode())]
        return status, headers, body

    with serve(Buffered(in_process_app, huge_minimum)) as url:
        report = run(Options(url=url, workflows=("push",)))
    chunked = [r for r in report.results if r.check_id.startswith("push.chunk")]
    assert chunked and all(r.status is Status.SKIP for r in chunked), [
        (r.check_id, r.status) for r in chunked
    ]
    said = {
        r.check_id: r.message
        for r in chunked
        if f"{10**15} asks for more than this validator sends" in r.message
    }
    assert said and all(r.check_id in said or "needs push.chunk" in r.message for r in chunked), [
        (r.check_id, r.message) for r in chunked
    ]
    assert report.ok, [(r.check_id, r.message) for r in report.failed]
