"""Runs the selected checks in order against one registry and gathers their results into a Report."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable

import httpx
from registry_toolkit.validate.checks import selected
from registry_toolkit.validate.checks.context import Context
from registry_toolkit.validate.checks.suite import Check
from registry_toolkit.validate.content import Content
from registry_toolkit.validate.options import Options
from registry_toolkit.validate.outcome import CheckEnded, CheckFailed, Result, Status, Unsupported
from registry_toolkit.validate.report import Report
from registry_toolkit.validate.session import Session

Progress = Callable[[Result], None]


def run(
    options: Options, *, transport: httpx.BaseTransport | None = None, progress: Progress | None = None
) -> Report:
    """Validate the registry at ``options.url``: every selected check, then the fuzzer when asked."""
    started = time.monotonic()
    session = Session(options, transport)
    report = Report(target=options.base_url, namespace=options.namespace, crossmount=options.crossmount)

    def record(result: Result) -> None:
        report.results.append(result)
        if progress:
            progress(result)

    try:
        reached = run_checks(Context(options, session, Content(options.seed)), record)
        if options.fuzz and reached:
            from registry_toolkit.validate.fuzz.campaign import fuzz_target

            for result in fuzz_target(options, session):
                record(result)
    finally:
        session.close()
    report.seconds = time.monotonic() - started
    return report


def run_checks(ctx: Context, record: Callable[[Result], None]) -> bool:
    """Run the selected checks; False when the registry does not answer at all (the run stops there)."""
    for check in selected(ctx.options.workflows):
        result = run_check(ctx, check)
        ctx.statuses[check.id] = result.status
        record(result)
        if check.id == "base.api" and _no_answer(result):
            return False
    return True


def _no_answer(result: Result) -> bool:
    return result.status is Status.FAIL and result.failing is not None and result.failing.status is None


def run_check(ctx: Context, check: Check) -> Result:
    result = Result(
        check.id, check.workflow, check.title, ", ".join(check.clauses), check.clause_text, Status.PASS
    )
    result.feature = check.feature
    if check.feature == "deletes" and not ctx.options.deletes:
        result.status, result.message = Status.UNSUPPORTED, "not tried (--no-deletes)"
        return result
    first = len(ctx.session.log)
    started = time.monotonic()
    try:
        check.run(ctx)
    except CheckEnded as ended:
        result.status, result.message = ended.status, ended.message
        if isinstance(ended, CheckFailed | Unsupported):
            result.failing = ended.exchange
    except Exception as exc:  # a bug in the check or an answer it could not read: report, never crash the run
        result.status = Status.FAIL
        result.message = (
            f"the check could not complete: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
        )
    result.seconds = time.monotonic() - started
    result.exchanges = ctx.session.log[first:]
    if result.status is Status.FAIL and result.failing is None and result.exchanges:
        result.failing = result.exchanges[-1]
    return result
