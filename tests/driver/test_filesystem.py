"""The filesystem driver against the shared conformance suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_impl.storage.driver.conformance import DriverConformance
from registry_impl.storage.driver.filesystem import FilesystemDriver

pytestmark = pytest.mark.driver


class TestFilesystemDriver(DriverConformance):
    @pytest.fixture
    def driver(self, tmp_path: Path) -> FilesystemDriver:
        return FilesystemDriver(tmp_path / "root")
