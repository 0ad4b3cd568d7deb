"""The in-memory driver against the shared conformance suite."""

from __future__ import annotations

import pytest

from registry_impl.storage.driver.conformance import DriverConformance
from registry_impl.storage.driver.inmemory import InMemoryDriver

pytestmark = pytest.mark.driver


class TestInMemoryDriver(DriverConformance):
    @pytest.fixture
    def driver(self) -> InMemoryDriver:
        return InMemoryDriver()
