"""Fuzzing findings: what broke, on which operation, with the exchange and curl commands that reproduce it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import schemathesis
from registry_toolkit.validate.exchange import Exchange, excerpt
from registry_toolkit.validate.fuzz.schema import CHECKS, short_id
from schemathesis.core.failures import FailureGroup

MAX_STEPS = 12  # stateful findings keep this many preceding steps


@dataclass
class Finding:
    operation: str
    kind: str
    message: str
    curl: str
    exchange: Exchange | None
    steps: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"[{self.operation}] {self.kind}: {self.message}"]
        if self.steps:
            lines.append("  steps before it (curl):")
            lines += [f"    {step}" for step in self.steps]
        lines.append(f"  reproduce: {self.curl}")
        return "\n".join(lines)


def exchange_of(response: Any) -> Exchange:
    """An Exchange from any response schemathesis understands (httpx, requests, its own)."""
    converted = schemathesis.Response.from_any(response)
    request = converted.request
    raw = request.body
    body = raw if isinstance(raw, bytes) else raw.encode() if isinstance(raw, str) else b""
    return Exchange(
        method=str(request.method),
        url=str(request.url),
        request_headers=tuple(
            (k, "<redacted>" if k.lower() == "authorization" else str(v)) for k, v in request.headers.items()
        ),
        request_body=excerpt(body),
        status=converted.status_code,
        response_headers=tuple((k, ", ".join(v)) for k, v in converted.headers.items()),
        response_body=excerpt(converted.content),
    )


class Findings:
    """Collects findings, one per (phase, operation, kind): the first example of each is kept."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.source = "stateless"  # which phase is running: findings and counts are kept per phase
        self.items: dict[tuple[str, str, str], Finding] = {}
        self.examples: dict[tuple[str, str], int] = {}

    def count(self, operation: str) -> None:
        key = (self.source, operation)
        self.examples[key] = self.examples.get(key, 0) + 1

    def validate(self, case: Any, response: Any, steps: list[str] | None = None) -> bool:
        """Run the schema checks on ``response``; record what fails. True when nothing did."""
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                self.add(case, f"{failure.code} {failure.title}", failure.message, response, steps)
            return False
        except AssertionError as failure:
            self.add(case, "check failed", str(failure), response, steps)
            return False
        return True

    def add(
        self, case: Any, kind: str, message: str, response: Any | None, steps: list[str] | None = None
    ) -> None:
        operation = short_id(case.operation)
        key = (self.source, operation, kind)
        if key in self.items:
            return
        self.items[key] = Finding(
            operation=operation,
            kind=kind,
            message=message.strip()[:2000],
            curl=self.curl(case),
            exchange=exchange_of(response) if response is not None else None,
            steps=list((steps or [])[-MAX_STEPS:]),
        )

    def curl(self, case: Any) -> str:
        try:
            return str(case.as_curl_command(base_url=self.base_url))
        except Exception as exc:  # curl rendering must never hide the finding
            return f"(no curl command: {exc})"

    def of(self, source: str, operation: str) -> list[Finding]:
        return [found for (src, op, _), found in self.items.items() if (src, op) == (source, operation)]

    def all(self) -> list[Finding]:
        return list(self.items.values())
