"""``registry-bench --smoke`` runs end to end against real processes, ends with the ratios line and writes the
README block (``--markdown``) in the format ``bench.readme`` parses; both registries did the same work."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from registry_toolkit.bench import readme

X = r"[\d.]+x"
RATIOS = re.compile(
    rf"ratios: push-mono {X} push-single {X} push-chunked {X} pull {X} \([\d.]+ of nginx\)"
    rf" manifest-get {X} manifest-head {X} manifest-put {X} tags {X} catalog {X}"
    r" rss-push \d+MiB rss-pull \d+MiB pss-push \d+MiB pss-pull \d+MiB cold-start [\d.]+s"
    r" cold-start-all [\d.]+s"
)


def bench_command() -> list[str]:
    beside = Path(sys.executable).parent / "registry-bench"
    found = str(beside) if beside.exists() else shutil.which("registry-bench")
    return [found] if found else [sys.executable, "-m", "registry_toolkit.bench"]


@pytest.mark.timeout(300)
def test_smoke_run(tmp_path: Path) -> None:
    if shutil.which("docker-registry") is None:
        pytest.skip(
            "docker-registry (Debian's distribution 2.8.2) is not installed: apt-get install docker-registry"
        )
    report, markdown = tmp_path / "bench.json", tmp_path / "bench.md"
    done = subprocess.run(
        [
            *bench_command(),
            "--smoke",
            "--warm-memory",
            "8",
            "--json",
            str(report),
            "--markdown",
            str(markdown),
        ],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    output = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, output
    last = done.stdout.rstrip("\n").splitlines()[-1]
    assert RATIOS.fullmatch(last), output
    doc = json.loads(report.read_text())
    assert doc["failures"] == []
    # an untimed push per server before the rounds (the first large push after the setup is slow on tmpfs)
    assert "warm-up: push-mono on ours" in done.stderr and "warm-up: push-mono on reference" in done.stderr
    assert doc["metrics"]["manifest-get"]["ours"]["median"] > 0
    assert doc["metrics"]["tags"]["baseline"]["median"] > 0
    assert doc["metrics"]["tags"]["ours"]["median"] > 0  # both unpaginated: the setup check compared them
    assert doc["page_cached"]["ours"] and doc["page_cached"]["reference"]
    # One warm-up write before each timed push, recorded in the order of that metric's samples on that side.
    each = doc["memory_warmed"]["each"]
    for metric, side in [("push-mono", "ours"), ("push-mono", "baseline"), ("push-single", "ours")]:
        writes = [w for w in each if (w["metric"], w["side"]) == (metric, side)]
        assert len(writes) == len(doc["metrics"][metric][side]["samples"]) > 0, (metric, side, each)
    block = readme.parse(markdown.read_text())
    assert block.media == [doc["medium"]["label"]]
    assert "warm-up writes below" in block.header[doc["medium"]["label"]]
    assert block.header["command"].startswith("`registry-bench --smoke --warm-memory 8 --json ")
    assert "tags list: throughput" in block.rows
