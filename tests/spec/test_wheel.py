"""Installing the project adds only its own distinctive import names to site-packages; the base install is the
client side (httpx only), the server comes with the ``server`` extra."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"registry_spec", "registry_generated", "registry_toolkit", "registry_client", "registry_impl"}
SERVER_ONLY = {"connexion", "granian", "uvicorn", "boto3", "redis", "bcrypt", "pyjwt", "jinja2", "jsonschema", "pyyaml"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built by the project's backend with every warning an error: ``./dev serve``'s install
    step prints the registry's lines, not setuptools' deprecations or "package would be ignored"."""
    out = tmp_path_factory.mktemp("wheel")
    build = f"from setuptools import build_meta; build_meta.build_wheel({str(out)!r})"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", build], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = out.glob("*.whl")
    return built


def test_editable_install_prints_no_warnings(tmp_path: Path) -> None:
    """What ``./dev`` installs: an editable build, quiet but for the finder's note that ``./dev`` filters."""
    dev_filter = re.search(r'PYTHONWARNINGS="([^"]+)"', (ROOT / "dev").read_text())
    assert dev_filter is not None
    build = f"from setuptools import build_meta; build_meta.build_editable({str(tmp_path)!r})"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-W", dev_filter.group(1), "-c", build],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_packages_list_names_every_package_directory() -> None:
    """A directory of modules or data left out of ``packages`` is silently missing from the wheel."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {Path(folder): name for name, folder in setuptools["package-dir"].items()}
    found = set()
    for folder, name in roots.items():
        for directory in [ROOT / folder, *(ROOT / folder).rglob("*")]:
            relative = directory.relative_to(ROOT)
            if (
                not directory.is_dir()
                or "__pycache__" in relative.parts
                or not any(f.is_file() for f in directory.iterdir())
            ):
                continue
            owner = max((r for r in roots if relative.is_relative_to(r)), key=lambda r: len(r.parts))
            if owner == folder:
                found.add(".".join([name, *relative.relative_to(folder).parts]))
    assert found == set(setuptools["packages"])


def test_wheel_top_level_names(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert top == EXPECTED
    assert "registry_generated/openapi.yaml" in names
    assert "registry_generated/openapi.json" in names  # what the server loads
    assert "registry_spec/templates/openapi.yaml.j2" in names
    assert any(name.startswith("registry_generated/schemas/") for name in names)
    assert "registry_impl/config/__init__.py" in names
    assert "registry_client/__init__.py" in names and "registry_spec/protocol/references.py" in names
    assert not any(name.startswith("registry_toolkit/client/") for name in names)
    metadata = (
        zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    )
    requires = [
        line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    ]
    base = {
        re.split(r"[\s\[<>=;]", line, maxsplit=1)[0].lower() for line in requires if "extra ==" not in line
    }
    server = {
        re.split(r"[\s\[<>=;]", line, maxsplit=1)[0].lower()
        for line in requires
        if 'extra == "server"' in line
    }
    assert base == {"httpx"}
    assert server >= SERVER_ONLY
