"""schemathesis reads the generated document and can generate a request for every operation."""

from __future__ import annotations

from pathlib import Path

import registry_generated
import schemathesis
from hypothesis import HealthCheck, given, settings

from registry_impl.api.app import operation_ids

SPEC = Path(registry_generated.__file__).parent / "openapi.yaml"


def test_schemathesis_generates_cases_for_every_operation() -> None:
    schema = schemathesis.openapi.from_path(str(SPEC))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(operation_ids())
    for operation in operations:
        assert _generated(operation.as_strategy()), f"{operation.method} {operation.path}"


def _generated(strategy: object) -> list[object]:
    seen: list[object] = []

    @given(case=strategy)
    @settings(max_examples=3, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    def generate(case: object) -> None:
        seen.append(case)

    generate()
    return seen
