"""Error reporting: unhandled exceptions sent to Bugsnag (distribution's ``reporting.bugsnag``: apikey,
releasestage, endpoint) and to Sentry (``SENTRY_DSN``, with the usual ``SENTRY_ENVIRONMENT`` and
``SENTRY_RELEASE``), each with the request id. Both are optional extras (``bugsnag``, ``sentry``) and
imported only when configured.

The one place an unhandled exception surfaces is the error log line the envelope writer makes for it
(``unhandled error (request …)``, with the exception attached); ``ReportingHandler`` on the root logger
sends exactly the records that carry an exception, so a failing health check (an error line without an
exception) is not reported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from registry_impl.observability.requestids import request_id

__all__ = ["ReportingHandler", "configure_reporting"]

Notifier = Callable[[BaseException, str], None]


class ReportingHandler(logging.Handler):
    """Sends each logged exception, with the request id, to every configured notifier."""

    def __init__(self, notifiers: list[Notifier]) -> None:
        super().__init__(logging.ERROR)
        self.notifiers = notifiers

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info or record.exc_info[1] is None:
            return
        error, rid = record.exc_info[1], request_id()
        for notify in self.notifiers:
            try:
                notify(error, rid)
            except Exception:  # a reporter's own failure must not fail the request
                self.handleError(record)


def _bugsnag(settings: Mapping[str, Any]) -> Notifier:
    import bugsnag

    endpoint = settings.get("endpoint") or None
    bugsnag.configure(  # type: ignore[no-untyped-call]
        api_key=settings["apikey"],
        release_stage=settings.get("releasestage") or "production",
        endpoint=endpoint,
        session_endpoint=endpoint,
        auto_capture_sessions=False,
    )

    def notify(error: BaseException, rid: str) -> None:
        bugsnag.notify(error, severity="error", metadata={"request": {"id": rid}} if rid else {})

    return notify


def _sentry(dsn: str) -> Notifier:
    import sentry_sdk

    sentry_sdk.init(dsn=dsn, default_integrations=False, auto_enabling_integrations=False)

    def notify(error: BaseException, rid: str) -> None:
        with sentry_sdk.new_scope() as scope:
            if rid:
                scope.set_tag("request_id", rid)
            sentry_sdk.capture_exception(error)

    return notify


def configure_reporting(reporting: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> bool:
    """Install the reporting handler when ``reporting.bugsnag.apikey`` or ``SENTRY_DSN`` is set."""
    notifiers: list[Notifier] = []
    bugsnag_settings = reporting.get("bugsnag") or {}
    if bugsnag_settings.get("apikey"):
        notifiers.append(_bugsnag(bugsnag_settings))
    if environ.get("SENTRY_DSN"):
        notifiers.append(_sentry(environ["SENTRY_DSN"]))
    if not notifiers:
        return False
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, ReportingHandler)]
    root.addHandler(ReportingHandler(notifiers))
    return True
