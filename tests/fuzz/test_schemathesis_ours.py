"""schemathesis over every operation of our in-process app (response validation on), stateless and stateful.

A small fixed budget keeps CI short; the long run is one command against a running server:
``registry-validate http://127.0.0.1:5000 --fuzz --max-examples 500``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from registry_toolkit.validate import Result, Status
from registry_toolkit.validate.fuzz.campaign import campaign, fuzz_app
from registry_toolkit.validate.fuzz.senders import AsgiSender

from registry_impl.api.app import create_app, operation_ids
from registry_impl.api.context import AppState
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Policy, Registry

EXAMPLES = 6  # per operation and generation mode
MACHINE_RUNS = 8  # state machine runs of up to 25 steps
FLOWS = {"start_upload", "patch_upload", "complete_upload", "put_manifest", "get_manifest", "delete_manifest"}


@pytest.fixture(autouse=True)
def quiet_connexion() -> Iterator[None]:
    """connexion warns on every manifest PUT that it picked one of several content types."""
    logger = logging.getLogger("connexion.operations")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def app(**policy: Any) -> Any:
    registry = Registry(InMemoryDriver(), Policy(**{"delete_enabled": True, "read_only": False, **policy}))
    return create_app(AppState(registry=registry, secret=b"fuzz-secret"), validate_responses=True)


def failures(results: list[Result]) -> list[str]:
    return [f"{r.check_id}: {r.message}" for r in results if r.status is Status.FAIL]


@pytest.mark.timeout(90)
def test_every_operation_and_the_flows_hold() -> None:
    started = time.monotonic()
    results = fuzz_app(app(), max_examples=EXAMPLES, machine_runs=MACHINE_RUNS, seed=20261127)
    assert not failures(results), "\n\n".join(failures(results))
    fuzzed = {r.check_id.split(".", 1)[1] for r in results if r.workflow == "fuzz"}
    assert fuzzed == {op.rsplit(".", 1)[-1] for op in operation_ids()}
    flows = {r.check_id.split(".", 1)[1] for r in results if r.workflow == "fuzz-flow"}
    assert flows >= FLOWS, f"the state machine never reached {sorted(FLOWS - flows)}"
    assert time.monotonic() - started < 75


class Recorder(AsgiSender):
    """Remembers what was generated (upload ids and state tokens differ from run to run; the cases do not)."""

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.sent: list[tuple[str, str, str, str]] = []

    def send(self, case: Any) -> Any:
        params = {k: v for k, v in (case.path_parameters or {}).items() if k != "uuid"}
        query = {k: v for k, v in (case.query or {}).items() if k != "_state"}
        self.sent.append((case.method, case.path, repr(sorted(params.items())), repr((query, case.body))))
        return super().send(case)


def test_a_seed_repeats_the_campaign() -> None:
    runs = []
    for _ in range(2):
        recorder = Recorder(app())
        campaign(recorder, namespace="seeded", deletes=True, max_examples=3, machine_runs=2, seconds=None,
                 seed=7, confine=False)  # fmt: skip
        runs.append(recorder.sent)
    assert len(runs[0]) > 40
    assert runs[0] == runs[1]


def test_a_server_error_is_reported_with_a_curl_command() -> None:
    inner = app()

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/tags/list"):
            await send(
                {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]}
            )
            await send({"type": "http.response.body", "body": b"boom"})
            return
        await inner(scope, receive, send)

    results = campaign(AsgiSender(broken), namespace="broken", deletes=True, max_examples=3, machine_runs=1,
                       seconds=None, seed=1, confine=False)  # fmt: skip
    failed = {r.check_id: r for r in results if r.status is Status.FAIL}
    assert "fuzz.list_tags" in failed, sorted(failed)
    result = failed["fuzz.list_tags"]
    assert result.reproduce is not None and result.reproduce.startswith("curl -X GET")
    assert "/tags/list" in result.reproduce
    assert "Server error" in result.message
    assert result.failing is not None and result.failing.status == 500
