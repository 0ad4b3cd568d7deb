"""dist's option plumbing without a registry: progress kinds (rich lines, JSON events), ``--format`` templates,
TLS material from a cert dir or ``certs.d``, ``USER[:PASSWORD]`` credentials, sync's YAML list, referrer entries."""

from __future__ import annotations

import io
import json
import ssl
from pathlib import Path

import pytest
from registry_client import Manifest
from registry_client.referrers import fallback_tag, referrer_descriptor
from registry_toolkit.dist.context import parse_creds, tls_context
from registry_toolkit.dist.formats import render
from registry_toolkit.dist.mirror import REFERRER_TAG, Job, load_jobs
from registry_toolkit.dist.progress import JsonEvents, Progress, RichProgress, make_progress
from registry_toolkit.dist.stores import StoreError
from testkit.tls import CertificateAuthority

DIGEST = "sha256:" + "ab" * 32


def test_progress_kind_follows_the_stream_and_options() -> None:
    assert isinstance(make_progress(events=True, stream=io.StringIO()), JsonEvents)
    plain = make_progress(stream=io.StringIO())  # not a terminal: one line per blob, no redraws
    assert type(plain) is Progress and not plain.quiet
    assert make_progress(quiet=True, stream=io.StringIO()).quiet
    assert isinstance(make_progress(stream=Terminal()), RichProgress)  # a terminal: rich's per-layer lines
    assert make_progress(quiet=True, stream=Terminal()).quiet


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_events_are_one_object_per_line() -> None:
    stream = io.StringIO()
    events = JsonEvents(stream)
    events.begin("Copying 1 blobs", 10, 1)
    events.task(DIGEST, 10)(10)
    events.item(DIGEST, "copied", 10)
    events.end()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in lines] == ["begin", "blob", "end"]
    assert lines[1] == {"event": "blob", "digest": DIGEST, "outcome": "copied", "size": 10}
    assert lines[2]["bytes"] == 10


def test_rich_progress_draws_a_line_per_layer() -> None:
    stream = io.StringIO()
    progress = RichProgress(stream)
    progress.begin("Copying 2 blobs", 3 << 20, 2)
    for n, digest in enumerate((DIGEST, "sha256:" + "cd" * 32)):
        advance = progress.task(digest, 1 << 20 << n)
        advance(1 << 20 << n)
        progress.item(digest, "copied" if n else "skipped", 1 << 20 << n)
    progress.end()
    text = stream.getvalue()
    assert "sha256:abababababab skipped" in text and "sha256:cdcdcdcdcdcd copied" in text
    assert "2.0/2.0 MiB" in text and progress.done == 3 << 20


def test_format_templates() -> None:
    value = {"digest": DIGEST, "layers": [{"size": 1}, {"size": 2}]}
    assert (
        render("{{ digest }} {{ layers | length }} {{ layers | sum(attribute='size') }}", value)
        == f"{DIGEST} 2 3"
    )
    assert render("{{ this | json }}", {"a": 1}) == '{"a": 1}'
    with pytest.raises(StoreError, match="'nope' is undefined"):
        render("{{ nope }}", value)
    with pytest.raises(StoreError, match="--format"):
        render("{{ digest ", value)


def test_tls_material_from_a_cert_dir_and_certs_d(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca")
    client = ca.issue("me", client=True)
    monkeypatch.setenv("DIST_CERTS_D", str(tmp_path / "certs.d"))
    assert tls_context("r.example:5000", None, None) is None  # nothing configured: the system's defaults

    ca.cert_dir(tmp_path / "certs.d" / "r.example:5000", client)
    found = tls_context("r.example:5000", None, None)
    assert isinstance(found, ssl.SSLContext) and found.verify_mode == ssl.CERT_REQUIRED
    assert any(c.get("subject") == ((("commonName", "registry test CA"),),) for c in found.get_ca_certs())
    assert tls_context("other:5000", str(ca.cert_path), None) is not None  # --cacert alone

    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "client.cert").write_bytes(client.cert_path.read_bytes())
    with pytest.raises(StoreError, match=r"no matching client\.key"):
        tls_context("r.example:5000", None, str(lonely))
    with pytest.raises(StoreError, match="not a directory"):
        tls_context("r.example:5000", None, str(tmp_path / "absent"))


def test_credentials_and_sync_lists(tmp_path: Path) -> None:
    assert (parse_creds("alice:pa:ss").username, parse_creds("alice:pa:ss").password) == ("alice", "pa:ss")
    with pytest.raises(StoreError):
        parse_creds(":secret")
    listing = tmp_path / "repos.yaml"
    listing.write_text(
        "repositories:\n  - library/alpine\n  - {name: team/app, tags: 'v\\d+', destination: m/app}\n"
    )
    assert load_jobs(listing) == [Job("library/alpine", "library/alpine"), Job("team/app", "m/app", r"v\d+")]
    assert REFERRER_TAG.fullmatch("sha256-" + "ab" * 32) and REFERRER_TAG.fullmatch(
        "sha256-" + "ab" * 32 + ".sig"
    )
    assert not REFERRER_TAG.fullmatch("sha256-latest") and not REFERRER_TAG.fullmatch("v1")
    listing.write_text("- just a list\n")
    with pytest.raises(StoreError, match="'repositories' list"):
        load_jobs(listing)


def test_referrer_entries_carry_artifact_type_and_annotations() -> None:
    artifact = Manifest.from_document(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/spdx+json", "digest": DIGEST, "size": 2},
            "layers": [],
            "annotations": {"k": "v"},
        }
    )
    entry = referrer_descriptor(artifact).to_json()
    assert (entry["artifactType"], entry["annotations"], entry["size"]) == (
        "application/spdx+json",
        {"k": "v"},
        len(artifact.content),
    )
    assert fallback_tag(DIGEST) == "sha256-" + "ab" * 32
