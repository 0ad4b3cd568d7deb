"""Every operation with generated parameters, headers and bodies; each answer validated against the document.

Generated values are mixed with values that exist (the namespace, pushed digests and tags), so the cases
reach the handlers' success paths as well as their refusals.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import hypothesis
import hypothesis.errors
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from registry_toolkit.validate.fuzz.findings import Findings
from registry_toolkit.validate.fuzz.schema import short_id
from registry_toolkit.validate.fuzz.senders import Sender, Unsendable
from schemathesis import GenerationMode

Known = dict[str, list[str]]  # path parameter → values that exist in the registry


def strategy(operation: Any, known: Known, confine: str | None, mode: GenerationMode) -> Any:
    """Cases of ``operation``: generated, and with path parameters taken from ``known`` values; ``mode``
    NEGATIVE makes each case break the document somewhere (the registry must refuse it, with a 4xx).

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
    branches = [operation.as_strategy(mode, path_parameters=params) for params in fixed]
    if confine is None or "{name}" not in path:
        branches.append(operation.as_strategy(mode))
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
    mode: GenerationMode = GenerationMode.POSITIVE,
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
    @hypothesis.given(case=strategy(operation, known, confine, mode))
    def run(case: Any) -> None:
        if expired():
            return
        findings.count(name)
        try:
            response = sender.send(case)
        except Unsendable as exc:
            if mode is GenerationMode.POSITIVE:  # a value the document allows cannot be sent: its fault
                findings.add(case, "valid case cannot be sent", str(exc), None)
            return
        except Exception as exc:  # no answer, or the in-process app raised
            findings.add(case, "no answer", f"{type(exc).__name__}: {exc}", None)
            return
        findings.validate(case, response)

    # Unsatisfiable: nothing of this operation can be made invalid (GET /v2/ has no parameters).
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()


def deadline(seconds: float | None) -> Callable[[], bool]:
    if seconds is None:
        return lambda: False
    end = time.monotonic() + seconds
    return lambda: time.monotonic() > end
