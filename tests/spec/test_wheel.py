"""Installing the project adds only its own distinctive import names to site-packages; the base install is the
client side (httpx only), the server comes with the ``server`` extra."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"registry_spec", "registry_generated", "registry_toolkit", "registry_client", "registry_impl"}
SERVER_ONLY = {"connexion", "granian", "uvicorn", "boto3", "redis", "bcrypt", "pyjwt", "jinja2", "jsonschema", "pyyaml"}


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
    assert "registry_client/__init__.py" in names and "registry_spec/protocol/references.py" in names
    assert not any(name.startswith("registry_toolkit/client/") for name in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    base = {re.split(r"[\s\[<>=;]", line, maxsplit=1)[0].lower() for line in requires if "extra ==" not in line}
    server = {re.split(r"[\s\[<>=;]", line, maxsplit=1)[0].lower() for line in requires if "extra == \"server\"" in line}
    assert base == {"httpx"}
    assert server >= SERVER_ONLY
