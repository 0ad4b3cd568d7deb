"""A check as data (id, workflow, title, the clauses it tests, the function that runs it) and the ordered suites."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from registry_toolkit.validate import clauses

if TYPE_CHECKING:
    from registry_toolkit.validate.checks.context import Context

CheckFunction = Callable[["Context"], None]


@dataclass(frozen=True)
class Check:
    """One check: ``id`` is ``<workflow>.<slug>``; ``feature`` names the optional feature it tests, if any."""

    id: str
    workflow: str
    title: str
    clauses: tuple[str, ...]
    run: CheckFunction
    feature: str | None = None

    @property
    def clause_text(self) -> str:
        return clauses.describe_all(self.clauses)


class Suite:
    """The checks of one workflow, in the order they run (later checks may use what earlier ones pushed)."""

    def __init__(self, workflow: str, description: str) -> None:
        self.workflow = workflow
        self.description = description
        self.checks: list[Check] = []

    def check(
        self, slug: str, title: str, *spec: str, feature: str | None = None
    ) -> Callable[[CheckFunction], CheckFunction]:
        """Register the decorated function as check ``<workflow>.<slug>`` testing the clauses ``spec``."""
        if not spec:
            raise ValueError(f"check {slug} cites no clause")
        for clause in spec:
            clauses.describe(clause)  # KeyError for a clause the descriptor does not know

        def register(function: CheckFunction) -> CheckFunction:
            check_id = f"{self.workflow}.{slug}"
            if any(c.id == check_id for c in self.checks):
                raise ValueError(f"check {check_id} registered twice")
            self.checks.append(Check(check_id, self.workflow, title, tuple(spec), function, feature))
            return function

        return register

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)
