"""Tier markers come from the folder a test lives in (tests/<tier>/...)."""

from __future__ import annotations

from pathlib import Path

import pytest

TIERS = ("unit", "spec", "driver", "api", "interop", "stress", "hostile", "fuzz", "ui")
ROOT = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT).parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
