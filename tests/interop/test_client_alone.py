"""The client side installs and works alone: a fresh virtual environment with only ``pip install <wheel>`` (no
``server`` extra, so httpx is its one dependency) has no connexion, and its ``dist`` copies an image from our
registry (a real process) to an OCI layout and back into another repository, every digest unchanged.

The wheel is built once per module; pip may fetch httpx and its dependencies from the package index.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.oci_layout import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, OciLayout
from testkit.processes import Server

ROOT = Path(__file__).resolve().parents[2]
ACCEPT_ALL = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])
SERVER_MODULES = ("connexion", "starlette", "granian", "uvicorn", "boto3", "redis", "bcrypt", "jwt", "jinja2")


def _run(argv: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``argv`` in ``cwd`` (also its HOME, so no Docker config of the machine's is read), outside our venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", HOME=str(cwd), DOCKER_CONFIG=str(cwd / ".docker"))
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding the project's wheel without extras; yields its ``bin`` directory."""
    work = tmp_path_factory.mktemp("client-alone")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work), str(ROOT)],
        cwd=work,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = work.glob("*.whl")
    created = _run([sys.executable, "-m", "venv", str(work / "venv")], cwd=work)
    assert created.returncode == 0, created.stderr
    bin_dir = work / "venv" / "bin"
    installed = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=work)
    if installed.returncode != 0 and "No matching distribution" in installed.stderr:
        pytest.skip(f"the package index is unreachable: {installed.stderr.strip().splitlines()[-1]}")
    assert installed.returncode == 0, installed.stderr
    yield bin_dir


def test_the_client_venv_has_no_server_dependencies(client_venv: Path, tmp_path: Path) -> None:
    for module in SERVER_MODULES:
        done = _run([str(client_venv / "python"), "-c", f"import {module}"], cwd=tmp_path)
        assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr, module
    done = _run(
        [str(client_venv / "python"), "-c", "import registry_client, registry_spec.protocol, registry_toolkit.dist.cli"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr


def _served(server: Server, repository: str, reference: str) -> tuple[bytes, str]:
    with server.client() as client:
        r = client.get(f"/v2/{repository}/manifests/{reference}", headers={"Accept": ACCEPT_ALL})
    assert r.status_code == 200, (r.status_code, r.text)
    return r.content, r.headers["Content-Type"].split(";")[0]


def _blob(server: Server, repository: str, digest: str) -> bytes:
    with server.client() as client:
        r = client.get(f"/v2/{repository}/blobs/{digest}", follow_redirects=True)
    assert r.status_code == 200, (digest, r.status_code)
    return r.content


def _assert_same(server: Server, source: str, target: str, reference: str) -> str:
    """Manifests (an index and its children) and blobs byte-identical in both repositories; the root digest."""
    content, media_type = _served(server, source, reference)
    assert _served(server, target, reference) == (content, media_type)
    document = json.loads(content)
    for child in document.get("manifests", []):
        _assert_same(server, source, target, child["digest"])
    for descriptor in [document["config"], *document["layers"]] if "layers" in document else []:
        assert _blob(server, source, descriptor["digest"]) == _blob(server, target, descriptor["digest"])
    return "sha256:" + hashlib.sha256(content).hexdigest()


def test_dist_from_the_client_venv_copies_an_image_and_back(
    client_venv: Path, ours_filesystem: Server, tmp_path: Path
) -> None:
    layout = OciLayout(tmp_path / "src", seed=13)
    layout.add_index("multi", layers=2)
    with ours_filesystem.client() as client:
        digest = layout.push(client, "alone/source", "multi")
    home = tmp_path / "home"
    home.mkdir()
    dist = str(client_venv / "dist")
    host, out = ours_filesystem.host, tmp_path / "out"

    down = _run([dist, "copy", "--all", f"{host}/alone/source:multi", f"oci:{out}:multi", "--json"], cwd=home)
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout)["digest"] == digest
    up = _run([dist, "copy", "--all", f"oci:{out}:multi", f"{host}/alone/copy:multi", "-q"], cwd=home)
    assert up.returncode == 0, up.stderr

    assert _assert_same(ours_filesystem, "alone/source", "alone/copy", "multi") == digest
