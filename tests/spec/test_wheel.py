"""Installing the project adds only its own distinctive import names to site-packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"registry_spec", "registry_generated", "registry_toolkit", "registry_impl"}


def test_wheel_top_level_names(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert top == EXPECTED
    assert "registry_generated/openapi.yaml" in names
    assert "registry_spec/templates/openapi.yaml.j2" in names
    assert any(name.startswith("registry_generated/schemas/") for name in names)
    assert "registry_impl/config/__init__.py" in names
