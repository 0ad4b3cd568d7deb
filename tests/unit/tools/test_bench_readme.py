"""registry-bench's README block: rendered from run documents, parsed back, embedded between the markers; the
README's own block is in that format; the equal-work check of list answers; the medium of a data dir.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from registry_toolkit.bench import machine, readme
from registry_toolkit.bench.loads import LoadResult
from registry_toolkit.bench.profiles import QUICK
from registry_toolkit.bench.report import BASELINE, OURS, Results, document
from registry_toolkit.bench.scenarios import same_work

README = Path(__file__).resolve().parents[3] / "README.md"


def md(text: str) -> str:
    """The README's typography from ASCII: ``2.00x`` -> times sign, ``1-2`` between digits -> en dash."""
    return re.sub(r"(?<=\d)x", readme.TIMES, re.sub(r"(?<=\d)-(?=\d)", readme.DASH, text))


def run_document(medium: str, scale: float) -> dict[str, Any]:
    results = Results()
    for ours, base in ((300.0, 100.0), (330.0, 110.0), (280.0, 140.0)):
        results.add("push-mono", OURS, ours * scale)
        results.add("push-mono", BASELINE, base * scale)
    for value in (4000.0, 4200.0, 3900.0):
        results.add("manifest-get", OURS, value)
    results.add("manifest-get", BASELINE, 500.0)  # one reference sample: the rounds do not pair up
    results.add("cold-start", OURS, 0.45)
    results.add("cold-start", BASELINE, 0.03)
    results.fail("tags", OURS, "unequal work: ours answers 1000 entries, the reference 2000")
    results.context.update(
        profile={**QUICK.as_dict(), "rounds": 3},
        ours={"command": "registry serve --server granian --workers 1"},
        reference={"version": "docker-registry 2.8.2"},
        load_average=0.4,
        seconds=250.0,
        machine={"date": "2026-12-02 14:50 UTC", "cpus": 2, "kernel": "Linux 6.1.0", "python": "3.11.7"},
        medium={"label": medium, "description": f"{medium} somewhere", "data_dir": "/x"},
        command_line="registry-bench --quick --rounds 3 --data-dir /var/tmp --data-dir /dev/shm",
        page_cached={"ours": [1.0, 1.0, 1.0], "reference": [0.98, 1.0, 1.0]},
    )
    return document(results)


def test_render_then_parse() -> None:
    block = readme.render([run_document("disk", 1.0), run_document("tmpfs", 2.0)])
    parsed = readme.parse(block)
    assert parsed.media == ["disk", "tmpfs"]
    assert parsed.header["rounds"].startswith("3 per medium")
    assert md("reference 98-100 %") in parsed.header["disk"]
    mono = parsed.rows["blob push, monolithic: POST + one PUT ?digest="]
    # median (range) of each side; the ratio is the median of per-round ratios 3.0, 3.0, 2.0 with their range
    assert mono[:3] == [md("300 (280-330)"), md("110 (100-140)"), md("3.00x (2.00-3.00)")]
    assert mono[3:5] == [md("600 (560-660)"), md("220 (200-280)")]
    assert parsed.rows["manifest GET by tag (wrk): throughput"][2] == md("8.00x")  # median over median
    assert parsed.rows["tags list: throughput"][:3] == ["error", "—", "—"]
    assert parsed.rows["cold start: spawn to first 200 on /v2/"][2] == md("15.00x")


def test_the_memory_warm_up_is_a_header_line() -> None:
    doc = run_document("tmpfs", 1.0)
    doc["memory_warmed"] = {"bytes": 256 << 20, "pushes": 15, "mib_per_s": [380.0, 1900.0, 2450.0]}
    parsed = readme.parse(readme.render([doc]))
    assert parsed.header["memory"].startswith(
        md(
            "256 MiB written to /dev/shm and freed right before each timed push (`--warm-memory`; 1900 MiB/s,"
            " 380-2450, over the first medium's 15)"
        )
    )
    doc["memory_warmed"]["writers"] = 2  # the warm-up written from a thread pinned to each CPU
    assert (
        readme.parse(readme.render([doc]))
        .header["memory"]
        .startswith(
            md(
                "256 MiB written to /dev/shm (a share from each of 2 CPUs) and freed right before each timed push"
            )
        )
    )
    assert "memory" not in readme.parse(readme.render([run_document("tmpfs", 1.0)])).header
    assert "warm-up writes" not in parsed.header["tmpfs"]  # a run that kept no write's rate


def test_a_medium_line_counts_its_slow_warm_up_writes_by_side() -> None:
    doc = run_document("tmpfs", 1.0)
    each = [("ours", 1900.0), ("baseline", 244.0), ("ours", 610.0), ("ours", 999.0), ("baseline", 2000.0)]
    doc["memory_warmed"] = {
        "bytes": 1 << 30,
        "pushes": len(each),
        "mib_per_s": [244.0, 999.0, 2000.0],
        "each": [{"metric": "push-mono", "side": side, "mib_per_s": rate} for side, rate in each],
    }
    line = readme.parse(readme.render([doc])).header["tmpfs"]
    assert line.endswith(
        md("; warm-up writes below 1000 MiB/s: 3 of 5 (2 before a push of ours, 1 of the reference)")
    )


def test_s3_runs_carry_the_s3_targets() -> None:
    block = readme.render([run_document("s3", 1.0)])
    mono = readme.parse(block).rows["blob push, monolithic: POST + one PUT ?digest="]
    assert mono[2] == md("3.00x (2.00-3.00)")
    assert "| blob push, monolithic: POST + one PUT ?digest= | MiB/s |  |" in block  # no target on S3


def test_two_runs_on_one_medium_get_numbered_groups() -> None:
    block = readme.render([run_document("disk", 1.0), run_document("disk", 1.0)])
    assert readme.parse(block).media == ["disk", "disk 2"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (md("| 300 (280-330) |"), "| fast |"),  # a cell that is no figure
        ("- date: 2026-12-02 14:50 UTC", "- date: today"),
        ("- command: `registry-bench", "- command: `bench"),
        ("| measurement | unit | target |", "| what | unit | target |"),
        ("blob push, monolithic", "blob push, mono"),  # a row the bench does not write
        ("- tmpfs: ", "- ramdisk: "),  # a column group no header line describes
    ],
)
def test_parse_refuses_what_render_does_not_write(old: str, new: str) -> None:
    block = readme.render([run_document("disk", 1.0), run_document("tmpfs", 2.0)])
    assert old in block
    with pytest.raises(ValueError):
        readme.parse(block.replace(old, new, 1))


def test_the_readme_block_is_in_the_format_the_bench_writes() -> None:
    """What README.md shows between the markers parses as ``registry-bench --readme`` writes it."""
    parsed = readme.parse(readme.extract(README.read_text(encoding="utf-8")))
    assert parsed.header["command"].startswith("`registry-bench ")
    assert len(parsed.media) >= 1
    assert "blob pull" in parsed.rows


def test_embed_replaces_only_the_block() -> None:
    text = f"# title\n\nbefore\n{readme.BEGIN}\nold\n{readme.END}\nafter\n"
    assert readme.embed(text, "new") == f"# title\n\nbefore\n{readme.BEGIN}\nnew\n{readme.END}\nafter\n"
    with pytest.raises(ValueError):
        readme.embed("no markers here", "new")


def test_load_reads_one_run_or_several(tmp_path: Path) -> None:
    one, several = tmp_path / "one.json", tmp_path / "several.json"
    one.write_text(json.dumps(run_document("tmpfs", 1.0)))
    several.write_text(json.dumps({"runs": [run_document("disk", 1.0), run_document("tmpfs", 1.0)]}))
    assert [d["medium"]["label"] for d in readme.load([several, one])] == ["disk", "tmpfs", "tmpfs"]


def wrk_result(requests: int, bytes_read: float) -> LoadResult:
    return LoadResult(requests, 2.0, requests / 2.0, 1.0, 2.0, errors=0, non_2xx=0, bytes_read=bytes_read)


def test_same_work_flags_list_answers_shorter_than_the_checked_list() -> None:
    body = 20_000  # 2 000 tags
    assert same_work(wrk_result(1000, 1000 * (body + 180)), body) is None  # body plus headers
    assert same_work(wrk_result(1000, 1000 * (body // 2 + 180)), body) is not None  # half the list: a page
    assert same_work(wrk_result(1000, 1000 * body * 2), body) is not None
    assert same_work(wrk_result(1000, None), body) is None  # ab: no byte count, nothing to compare


MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0
/dev/vdb /var/lib/my\\040data xfs rw 0 0
"""


def test_medium_of_a_data_dir() -> None:
    assert machine.medium(Path("/dev/shm/x"), MOUNTS) == {
        "label": "tmpfs",
        "description": "tmpfs, mounted at /dev/shm",
        "data_dir": "/dev/shm/x",
    }
    assert machine.medium(Path("/var/tmp"), MOUNTS)["description"] == "ext4 on /dev/vda, mounted at /"
    assert machine.medium(Path("/var/lib/my data/b"), MOUNTS)["description"] == (
        "xfs on /dev/vdb, mounted at /var/lib/my data"
    )
    assert machine.medium(Path("/dev/shmem"), MOUNTS)["label"] == "disk"  # a prefix is not a parent


@pytest.mark.skipif(machine.mount_of(Path("/dev/shm"))[1] != "tmpfs", reason="needs /dev/shm on tmpfs")
def test_warm_memory_writes_and_frees_a_file_on_tmpfs(tmp_path: Path) -> None:
    before, affinity = set(Path("/dev/shm").iterdir()), os.sched_getaffinity(0)
    done = machine.warm_memory((40 << 20) + 1)
    assert done is not None and done["bytes"] == (40 << 20) + 1 and done["directory"] == "/dev/shm"
    assert done["mib_per_s"] > 0 and done["cpus"] == len(affinity)
    assert os.sched_getaffinity(0) == affinity  # the writers were pinned, not the caller
    assert set(Path("/dev/shm").iterdir()) <= before  # nothing left behind
    assert machine.warm_memory(0) is None
    assert machine.warm_memory(40 << 20, tmp_path) is None or machine.medium(tmp_path)["label"] == "tmpfs"
    assert machine.warm_memory(1 << 60) is None  # more than there is room for: nothing written
