"""Exchanges (redaction, excerpts, curl), and the console, JUnit and HTML renderings of a report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
from registry_toolkit.validate import html, junit
from registry_toolkit.validate.exchange import Exchange, excerpt
from registry_toolkit.validate.outcome import Result, Status
from registry_toolkit.validate.report import Report, failure_text


def exchange() -> Exchange:
    request = httpx.Request(
        "PUT",
        "http://r/v2/a/blobs/uploads/1?digest=sha256:00",
        headers={"Authorization": "Bearer secret"},
        content=b"<x>",
    )
    response = httpx.Response(
        400, json={"errors": [{"code": "DIGEST_INVALID", "message": "m"}]}, request=request
    )
    return Exchange.of(response, b"<x>")


def report() -> Report:
    done = Report(target="http://r", namespace="validate/x", crossmount="validate/x-crossmount", seconds=1.5)
    done.results = [
        Result("base.api", "base", "GET /v2/", "end-1", "OCI end-1: GET /v2/", Status.PASS),
        Result(
            "push.upload-digest-mismatch", "push", "Mismatch <refused>", "end-6", "OCI end-6", Status.FAIL,
            message="expected HTTP 400 & more", exchanges=[exchange()], failing=exchange(),
        ),
        Result("push.monolithic-post", "push", "One POST", "end-4b", "OCI end-4b", Status.UNSUPPORTED, message="202"),
        Result("discovery.tags-link", "discovery", "Link", "end-8b", "OCI end-8b", Status.SKIP, message="needs x"),
    ]  # fmt: skip
    return done


def test_exchange_redacts_credentials_and_renders_curl() -> None:
    found = exchange()
    assert ("authorization", "<redacted>") in found.request_headers
    assert "secret" not in found.request_text() + found.curl()
    assert found.curl().startswith("curl -i -X PUT")
    assert "DIGEST_INVALID" in found.response_text()
    assert found.header("Content-Type") == "application/json"


def test_excerpt_summarises_binary_and_long_bodies() -> None:
    assert excerpt(b"") == ""
    assert excerpt(bytes(range(256))).startswith("<256 bytes of binary data")
    assert excerpt(b"a" * 5000).endswith("(5000 bytes in all)")


def test_report_status_and_summary() -> None:
    done = report()
    assert not done.ok and done.exit_status == 1
    assert done.failed_ids == {"push.upload-digest-mismatch"}
    assert done.summary().startswith("NOT CONFORMANT: 4 checks")
    text = failure_text(done.failed[0])
    assert "OCI end-6" in text and "HTTP 400" in text and "secret" not in text


def test_junit(tmp_path: Path) -> None:
    junit.write(report(), tmp_path / "r.xml")
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert root.get("tests") == "4" and root.get("failures") == "1"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["push.upload-digest-mismatch"].find("failure") is not None
    assert cases["push.monolithic-post"].find("skipped") is not None
    assert cases["discovery.tags-link"].find("skipped") is not None
    assert cases["base.api"].find("failure") is None


def test_html_is_one_escaped_page(tmp_path: Path) -> None:
    html.write(report(), tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http-equiv" not in page.lower()
    assert "Not conformant: 1 check(s) failed" in page
    assert "Mismatch &lt;refused&gt;" in page and "expected HTTP 400 &amp; more" in page
    assert 'href="#push.upload-digest-mismatch"' in page
    assert "DIGEST_INVALID" in page  # the failing response
    assert "secret" not in page
