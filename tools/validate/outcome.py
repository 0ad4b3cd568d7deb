"""How a check ends: the statuses, the exceptions a check raises to end early, and the recorded result.

::

    CheckEnded                  raised inside a check to stop it with a status other than pass
    ├── CheckFailed             fail: the registry broke the clause (with the exchange that shows it)
    ├── Unsupported             unsupported-optional: an optional feature the registry does not offer
    └── Skipped                 skip: a check it depends on did not pass, or the user turned it off
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from registry_toolkit.validate.exchange import Exchange


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNSUPPORTED = "unsupported-optional"
    SKIP = "skip"

    @property
    def ok(self) -> bool:
        """True for every status that does not make the run fail."""
        return self is not Status.FAIL


class CheckEnded(Exception):
    """Stops a check early; ``status`` says how it ended."""

    status: Status

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CheckFailed(CheckEnded):
    """The registry's answer breaks the check's clause; ``exchange`` is the request/response that shows it."""

    status = Status.FAIL

    def __init__(self, message: str, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.exchange = exchange


class Unsupported(CheckEnded):
    """The registry does not offer the optional ``feature`` this check tests."""

    status = Status.UNSUPPORTED

    def __init__(self, feature: str, message: str, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.feature = feature
        self.exchange = exchange


class Skipped(CheckEnded):
    status = Status.SKIP


@dataclass
class Result:
    """One check's outcome, with every exchange it made (the failing one marked)."""

    check_id: str
    workflow: str
    title: str
    clause: str
    clause_text: str
    status: Status
    message: str = ""
    seconds: float = 0.0
    exchanges: list[Exchange] = field(default_factory=list)
    failing: Exchange | None = None
    feature: str | None = None
    reproduce: str | None = None
