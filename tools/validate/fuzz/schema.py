"""generated/openapi.yaml as schemathesis loads it, its operations by operationId, and the response checks run."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import registry_generated
import schemathesis
from hypothesis import strategies as st
from registry_spec.params import NAME_COMPONENT_PATTERN
from registry_spec.routes import ROUTES
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SPEC = Path(registry_generated.__file__).resolve().parent / "openapi.yaml"

# No 5xx; only documented statuses; documented Content-Type; declared headers well-formed; bodies valid.
CHECKS: list[Any] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Repository names (`format: path` in the document) from their grammar directly: generating them from the
# pattern with `maxLength: 255` costs hypothesis ~0.4 s a case; this strategy yields the same language
# (lengths up to the limit stay possible through the pattern's repetition) in a fraction of that.
NAMES = st.from_regex(rf"\A{NAME_COMPONENT_PATTERN}(?:/{NAME_COMPONENT_PATTERN}){{0,3}}\Z")


@cache
def load() -> Any:
    """The schemathesis schema of generated/openapi.yaml (loaded once per process)."""
    schemathesis.openapi.format("path", NAMES)
    return schemathesis.openapi.from_path(str(SPEC))


def operations() -> dict[str, Any]:
    """Every operation, keyed by its operationId (``patch_upload``)."""
    found: dict[str, Any] = {}
    for result in load().get_all_operations():
        operation = result.ok()
        found[short_id(operation)] = operation
    return found


def short_id(operation: Any) -> str:
    return str(operation.definition.raw["operationId"])


def clause_of(operation: Any) -> str:
    """The clause an operation stands for: its OCI end-N, else its route name."""
    operation_id = operation.definition.raw["operationId"]
    for route in ROUTES:
        for method in route.methods:
            if method.operation_id == operation_id:
                return method.spec_id or route.name
    raise KeyError(operation_id)
