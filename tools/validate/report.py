"""The outcome of a run: every result, the counts, the exit status and the plain-text summary for the console."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from registry_toolkit.validate.outcome import Result, Status

MARKS = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.UNSUPPORTED: "OPT ", Status.SKIP: "SKIP"}


@dataclass
class Report:
    target: str
    namespace: str
    crossmount: str
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> Counter[Status]:
        return Counter(result.status for result in self.results)

    @property
    def failed(self) -> list[Result]:
        return [result for result in self.results if result.status is Status.FAIL]

    @property
    def failed_ids(self) -> set[str]:
        return {result.check_id for result in self.failed}

    @property
    def ok(self) -> bool:
        """True when every check passed, was unsupported-optional or skipped."""
        return not self.failed

    @property
    def exit_status(self) -> int:
        return 0 if self.ok else 1

    def by_id(self, check_id: str) -> Result:
        for result in self.results:
            if result.check_id == check_id:
                return result
        raise KeyError(check_id)

    def summary(self) -> str:
        counts = self.counts
        parts = [
            f"{counts[s]} {s.value}"
            for s in (Status.PASS, Status.FAIL, Status.UNSUPPORTED, Status.SKIP)
            if counts[s]
        ]
        verdict = "CONFORMANT" if self.ok else "NOT CONFORMANT"
        return (
            f"{verdict}: {len(self.results)} checks against {self.target} in {self.seconds:.1f}s: "
            + ", ".join(parts)
        )


def result_line(result: Result) -> str:
    line = f"{MARKS[result.status]} {result.check_id:<40} {result.title}"
    if result.status is not Status.PASS and result.message:
        line += f"\n     {result.message.splitlines()[0]}"
    return line


def failure_text(result: Result) -> str:
    """A failure for the console: what broke, the clause, and the exchange that shows it."""
    lines = [
        f"--- {result.check_id}: {result.title}",
        f"clause: {result.clause_text}",
        f"why:    {result.message}",
    ]
    if result.reproduce:
        lines.append(f"repro:  {result.reproduce}")
    if result.failing is not None:
        lines += [
            "request:",
            _indent(result.failing.request_text()),
            "response:",
            _indent(result.failing.response_text()),
        ]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
