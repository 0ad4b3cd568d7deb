"""Every operation with generated parameters, headers and bodies; each answer validated against the document.

Generated values are mixed with values that exist (the namespace, pushed digests and tags), so the cases
reach the handlers' success paths as well as their refusals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from registry_toolkit.validate.fuzz.findings import Findings
from registry_toolkit.validate.fuzz.schema import short_id
from registry_toolkit.validate.fuzz.senders import Sender

Known = dict[str, list[str]]  # path parameter → values that exist in the registry


def strategy(operation: Any, known: Known, confine: str | None) -> Any:
    """Cases of ``operation``: generated, and with path parameters taken from ``known`` values.

    ``confine``: every case addresses this repository (a registry that is not ours is not written elsewhere).
    """
    path = operation.path
    fixed: list[dict[str, str]] = []
    names = known.get("name", [])
    for name in names:
        if "{name}" not in path:
            break
        fixed.append({"name": name})
        for key in ("digest", "reference"):
            if "{" + key + "}" in path:
                fixed += [{"name": name, key: value} for value in known.get(key, [])]
    branches = [operation.as_strategy(path_parameters=params) for params in fixed]
    if confine is None or "{name}" not in path:
        branches.append(operation.as_strategy())
    return st.one_of(branches)


def fuzz_operation(
    operation: Any,
    sender: Sender,
    findings: Findings,
    *,
    known: Known,
    confine: str | None,
    max_examples: int,
    seed: int,
    expired: Callable[[], bool],
) -> None:
    name = short_id(operation)

    @hypothesis.seed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=strategy(operation, known, confine))
    def run(case: Any) -> None:
        if expired():
            return
        findings.count(name)
        try:
            response = sender.send(case)
        except Exception as exc:  # no answer, or the in-process app raised
            findings.add(case, "no answer", f"{type(exc).__name__}: {exc}", None)
            return
        findings.validate(case, response)

    run()


def deadline(seconds: float | None) -> Callable[[], bool]:
    if seconds is None:
        return lambda: False
    end = time.monotonic() + seconds
    return lambda: time.monotonic() > end
