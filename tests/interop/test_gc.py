"""`registry garbage-collect` against Debian's `docker-registry garbage-collect` (distribution 2.8.2).

One data directory is seeded by pushing ``testkit.gcseed``'s scenario through distribution's own server
(so its ``_referrers`` index is empty: our GC finds subjects in the manifests themselves); the server is
stopped and the directory copied once per GC run, so both collectors see the same bytes. Without
``--delete-untagged`` both delete exactly the same blobs; with it, distribution also deletes what
``gcseed.REFERENCE_ALSO_DELETES`` lists, each with its reason (it knows no referrers, and it drops the
revisions of an index's untagged children). ``--dry-run`` changes nothing in either.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from testkit import gcseed
from testkit.processes import REFERENCE_ENV_DROP, Spawner, clean_environ, ours_command, reference_command
from testkit.processes import run_to_exit as run

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, gcseed.Seeded]:
    """A filesystem root filled through distribution's server, which is then stopped."""
    if ours_command() is None or reference_command() is None:
        pytest.skip("needs the `registry` console script and Debian's docker-registry")
    spawner = Spawner(tmp_path_factory.mktemp("gc-seed"))
    server = spawner.reference()
    try:
        with server.client() as client:
            content = gcseed.seed(gcseed.HttpPusher(client))
    finally:
        spawner.stop_all()
    return server.root, content


def copy_of(seeded: tuple[Path, gcseed.Seeded], tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A copy of the seeded root and a config.yml for it."""
    root = tmp_path / name
    shutil.copytree(seeded[0], root)
    config = tmp_path / f"{name}.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}\n"
        "  delete:\n    enabled: true\n"
    )
    return root, config


def blobs(root: Path) -> set[str]:
    base = root / "docker/registry/v2/blobs/sha256"
    return {"sha256:" + p.parent.name for p in base.glob("*/*/data")}


def revisions(root: Path) -> set[tuple[str, str]]:
    base = root / "docker/registry/v2/repositories"
    return {
        (str(p.relative_to(base)).split("/_manifests/")[0], "sha256:" + p.parent.name)
        for p in base.glob("**/_manifests/revisions/sha256/*/link")
    }


def collect(config: Path, *flags: str, reference: bool) -> str:
    command = reference_command() if reference else ours_command()
    assert command is not None
    env = clean_environ(REFERENCE_ENV_DROP if reference else ())
    status, out = run([*command, "garbage-collect", *flags, str(config)], env, timeout=60)
    assert status == 0, out
    return out


@pytest.mark.parametrize("flags", [(), ("--delete-untagged",)], ids=["all", "delete-untagged"])
def test_same_blobs_deleted_as_docker_registry(
    seeded: tuple[Path, gcseed.Seeded], tmp_path: Path, flags: tuple[str, ...]
) -> None:
    content = seeded[1]
    ours_root, ours_config = copy_of(seeded, tmp_path, "ours")
    ref_root, ref_config = copy_of(seeded, tmp_path, "reference")
    before = blobs(ours_root)
    before_revisions = revisions(ours_root)

    for dry in ((ours_root, ours_config, False), (ref_root, ref_config, True)):
        collect(dry[1], "--dry-run", *flags, reference=dry[2])
        assert blobs(dry[0]) == before and revisions(dry[0]) == before_revisions

    collect(ours_config, *flags, reference=False)
    collect(ref_config, *flags, reference=True)
    ours_deleted = content.names(before - blobs(ours_root))
    ref_deleted = content.names(before - blobs(ref_root))
    if not flags:
        assert ours_deleted == ref_deleted == gcseed.DELETED_BLOBS
        assert revisions(ours_root) == revisions(ref_root) == before_revisions
        # the one difference without --delete-untagged: 2.8.2 leaves the swept blob's layer link behind
        orphan = content.labels["ORPHAN"].split(":")[1]
        link = f"docker/registry/v2/repositories/gc/a/_layers/sha256/{orphan}/link"
        assert (ref_root / link).exists() and not (ours_root / link).exists()
        return
    assert ours_deleted == gcseed.UNTAGGED_DELETED_BLOBS
    assert ref_deleted - ours_deleted == set(gcseed.REFERENCE_ALSO_DELETES)
    assert ours_deleted <= ref_deleted
    label = {d: k for k, d in content.labels.items()}
    ours_gone = {(n, label[d]) for n, d in before_revisions - revisions(ours_root)}
    ref_gone = {(n, label[d]) for n, d in before_revisions - revisions(ref_root)}
    assert ours_gone == gcseed.UNTAGGED_DELETED_MANIFESTS
    assert ref_gone == ours_gone | {("gc/a", "SIG1"), ("gc/b", "M1"), ("gc/b", "M2")}
