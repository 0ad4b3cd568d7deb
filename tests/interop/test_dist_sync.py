"""``dist sync`` mirrors a 20-tag repository from ours to distribution 2.8.2: a tag filter first, then the rest
(resumed: what is there is skipped by digest), then nothing at all; ``copy --all-tags``; ``dist tag`` (tag
parameters where the registry confirms them, one PUT per tag elsewhere), ``delete --tag``, ``--version``,
``--format`` and ``--json`` progress events.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from testkit.dist import Dist as SubprocessDist
from testkit.dist import InProcessDist as Dist
from testkit.oci_layout import OciLayout
from testkit.processes import Server

ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"
TAGS = [f"v{i}" for i in range(20)]


def digest_of(server: Server, repository: str, tag: str) -> str | None:
    with server.client() as client:
        r = client.head(f"/v2/{repository}/manifests/{tag}", headers={"Accept": ACCEPT})
    return r.headers["Docker-Content-Digest"] if r.status_code == 200 else None


@pytest.fixture(scope="module")
def twenty(ours_filesystem: Server, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """A repository on ours with 20 tags over 10 distinct small images (two tags each)."""
    layout = OciLayout(tmp_path_factory.mktemp("sync-layout"), seed=2021)
    repository = f"sync/src-{uuid.uuid4().hex[:8]}"
    digests: dict[str, str] = {}
    with ours_filesystem.client() as client:
        for i, tag in enumerate(TAGS):
            if i % 2 == 0:
                layout.add_image(tag, layers=1, file_size=2048)
            else:
                layout.tag(tag, layout.refs()[TAGS[i - 1]])
            digests[tag] = layout.push(client, repository, tag)
    return repository, digests


def sync(dist: Dist, *args: str) -> Any:
    return dist.json("sync", "-q", *args)


def test_sync_twenty_tags_resumes_and_then_transfers_nothing(
    tmp_path: Path, ours_filesystem: Server, reference: Server, twenty: tuple[str, dict[str, str]]
) -> None:
    dist, (repository, digests) = Dist(tmp_path / "home"), twenty
    source, target = f"{ours_filesystem.host}/{repository}", f"{reference.host}/{repository}"

    first = sync(dist, "--tags", r"v1\d", source, target)  # v10..v19: a partial mirror, as if interrupted
    assert first["tags"] == {"copied": 10, "unchanged": 0, "failed": 0}
    rest = sync(dist, "-P", "6", source, target)
    assert rest["tags"] == {"copied": 10, "unchanged": 10, "failed": 0}
    assert {digest_of(reference, repository, t) for t in TAGS} == set(digests.values())
    assert all(digest_of(reference, repository, t) == d for t, d in digests.items())

    listing = tmp_path / "repos.yaml"
    listing.write_text(f"repositories:\n  - name: {repository}\n    tags: 'v\\d+'\n")
    again = dist("sync", "--file", str(listing), ours_filesystem.host, reference.host).stdout
    assert ": 0 copied, 20 unchanged, 0 failed, 0 referrers, 0 B in " in again


def test_copy_all_tags_and_everyday_commands(
    tmp_path: Path, ours_filesystem: Server, reference: Server, twenty: tuple[str, dict[str, str]]
) -> None:
    dist, (repository, digests) = Dist(tmp_path / "home"), twenty
    ours = ours_filesystem
    mirror = f"{repository}-all"
    copied = dist.json("copy", "--all-tags", f"{ours.host}/{repository}", f"{ours.host}/{mirror}")
    assert copied["tags"]["copied"] == 20 and copied["bytes"] == 0  # one registry: every blob mounted
    assert set(dist.json("ls", f"{ours.host}/{mirror}")) == set(TAGS)

    dist("copy", "-q", f"{ours.host}/{repository}:v3", f"{reference.host}/{repository}:v3")
    for server in (ours, reference):
        tagged = dist.json("tag", f"{server.host}/{repository}:v3", "stable", "prod")
        assert tagged["digest"] == digests["v3"]
        assert (
            digest_of(server, repository, "stable") == digest_of(server, repository, "prod") == digests["v3"]
        )

    assert dist("delete", "--tag", f"{ours.host}/{repository}:prod").returncode == 0
    assert digest_of(ours, repository, "prod") is None and digest_of(ours, repository, "v3") == digests["v3"]
    refused = dist.fails("delete", "--tag", f"{reference.host}/{repository}:prod")
    assert digest_of(reference, repository, "v3") == digests["v3"], refused

    assert (
        SubprocessDist(tmp_path / "sub")("--version").stdout.strip().startswith("dist ")
    )  # the console entry
    shown = dist("inspect", "--format", "{{ digest }} {{ layers | length }}", f"{ours.host}/{repository}:v0")
    assert shown.stdout.strip() == f"{digests['v0']} 1"
    names = dist("ls", "--format", "{{ repository }}:{{ tag }}", f"{ours.host}/{repository}").stdout.split()
    assert f"{ours.host}/{repository}:v19" in names
    assert "no_such" in dist.fails("inspect", "--format", "{{ no_such }}", f"{ours.host}/{repository}:v0")

    done = dist("copy", "--json", f"{ours.host}/{repository}:v2", f"{reference.host}/{repository}-events:v2")
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events][:1] == ["begin"] and events[-1]["event"] == "message"
    assert {e["outcome"] for e in events if e["event"] == "blob"} == {"copied"}
