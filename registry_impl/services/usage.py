"""Storage used per repository, as the operator's last ``registry usage --save`` measured it (the web UI shows it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry_impl.services.state import State
from registry_impl.storage.usage import load_report

__all__ = ["StoredUsage", "stored_usage"]


@dataclass(frozen=True)
class StoredUsage:
    """Per repository: ``size``, ``unique`` and ``shared`` bytes (and ``blobs``), measured at ``measured_at``."""

    measured_at: str
    repositories: Mapping[str, Mapping[str, Any]]


async def stored_usage(state: State) -> StoredUsage | None:
    """The last stored report, or None when there is none."""
    document = await state.offload.storage(load_report, state.registry.driver)
    if document is None:
        return None
    rows = document.get("repositories")
    repositories = (
        {str(row["name"]): row for row in rows if isinstance(row, dict) and "name" in row}
        if isinstance(rows, list)
        else {}
    )
    return StoredUsage(str(document.get("measured_at", "")), repositories)
