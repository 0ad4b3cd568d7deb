"""Logging as distribution's ``log`` section asks: level, formatter (text, json, logstash), fields, access log.

``configure(log)`` sets up the root logger on stderr; ``AccessLog`` wraps an ASGI app and writes one
line per request in the Apache combined format on stdout (distribution's access log, on unless
``log.accesslog.disabled``), whatever the formatter, as distribution's does.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from registry_impl.config import LogConfig
from registry_impl.observability.requestids import observed, request_id

__all__ = ["ACCESS_LOGGER", "AccessJSONFormatter", "AccessLog", "JSONFormatter", "TextFormatter", "configure"]
REQUEST_ID_FIELD = "http.request.id"  # distribution's field name

ACCESS_LOGGER = "registry.access"
_LEVELS = {"error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}
_LEVEL_NAMES = {logging.CRITICAL: "fatal", logging.ERROR: "error", logging.WARNING: "warning"}


def _level_name(record: logging.LogRecord) -> str:
    return _LEVEL_NAMES.get(record.levelno, "info" if record.levelno >= logging.INFO else "debug")


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """logrus's text layout: ``time="…" level=info msg="…" key=value``."""

    def __init__(self, fields: Mapping[str, Any], caller: bool = False) -> None:
        super().__init__()
        self.fields = dict(fields)
        self.caller = caller

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"time={json.dumps(_timestamp(record))}", f"level={_level_name(record)}"]
        parts.append(f"msg={json.dumps(record.getMessage())}")
        for key, value in {
            **self.fields,
            "logger": record.name,
            **_caller(record, self.caller),
            **_rid(),
        }.items():
            text = value if isinstance(value, str) else json.dumps(value)
            parts.append(f"{key}={json.dumps(text) if ' ' in text or not text else text}")
        if record.exc_info:
            parts.append(f"error={json.dumps(self.formatException(record.exc_info))}")
        return " ".join(parts)


class JSONFormatter(logging.Formatter):
    """One JSON object a line: logrus's ``json`` (time, level, msg) or ``logstash`` (@timestamp, @version,
    level, message) layout, with ``log.fields`` added to every line."""

    def __init__(self, fields: Mapping[str, Any], logstash: bool = False, caller: bool = False) -> None:
        super().__init__()
        self.fields = dict(fields)
        self.logstash = logstash
        self.caller = caller

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = dict(self.fields)
        if self.logstash:
            line.update({"@timestamp": _timestamp(record), "@version": "1", "message": record.getMessage()})
        else:
            line.update({"time": _timestamp(record), "msg": record.getMessage()})
        line.update(
            {"level": _level_name(record), "logger": record.name, **_caller(record, self.caller), **_rid()}
        )
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _rid() -> dict[str, str]:
    """The request id of the request being handled, as a field ({} outside a request)."""
    rid = request_id()
    return {REQUEST_ID_FIELD: rid} if rid else {}


class AccessJSONFormatter(JSONFormatter):
    """The access log under a JSON formatter: the combined line as the message, its parts as fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = json.loads(super().format(record))
        line.update(getattr(record, "access", {}))
        return json.dumps(line, default=str)


def _caller(record: logging.LogRecord, wanted: bool) -> dict[str, str]:
    """logrus's ``log.reportcaller`` fields: the calling function and ``file:line``."""
    if not wanted:
        return {}
    return {"func": f"{record.module}.{record.funcName}", "file": f"{record.pathname}:{record.lineno}"}


def configure(log: LogConfig) -> None:
    """The root logger at ``log.level``, on stderr, in ``log.formatter``'s layout with ``log.fields``;
    the access logger on stdout, raw lines (or silenced by ``log.accesslog.disabled``)."""
    formatter: logging.Formatter
    if log.formatter == "text":
        formatter = TextFormatter(log.fields, caller=log.reportcaller)
    else:
        formatter = JSONFormatter(log.fields, logstash=log.formatter == "logstash", caller=log.reportcaller)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[log.level])
    logging.getLogger("connexion").setLevel(logging.WARNING)  # it logs every unvalidated binary body at INFO
    # ... and warns several times per manifest PUT that the operation takes several media types (by design).
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
    access = logging.getLogger(ACCESS_LOGGER)
    access.propagate = False
    access.setLevel(logging.INFO)
    out = logging.StreamHandler(sys.stdout)
    if log.formatter == "text":
        out.setFormatter(logging.Formatter("%(message)s"))
    else:
        out.setFormatter(AccessJSONFormatter(log.fields, logstash=log.formatter == "logstash"))
    access.handlers[:] = [] if log.accesslog.disabled else [out]
    access.disabled = log.accesslog.disabled


def server_log_config(log: LogConfig) -> dict[str, Any] | None:
    """The ``logging.config`` dict handed to granian and uvicorn: under a JSON formatter their own lines
    (startup, workers, shutdown) go through the root logger, so every line of the run is JSON; None
    (their defaults) under ``text``."""
    if log.formatter == "text":
        return None
    through_root = {"handlers": [], "propagate": True}
    names = ("_granian", "granian.access", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {n: dict(through_root) for n in names},
    }


class AccessLog:
    """One Apache combined-format line per HTTP request, written when the response ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger(ACCESS_LOGGER)
        self._judged: tuple[Any, Any] = (None, None)
        self._stream: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.log.disabled:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        info, send = observed(send)
        try:
            await self.app(scope, receive, send)
        finally:
            self._write(scope, info.status or 500, abs(info.size), info.user, time.perf_counter() - started)

    def _plain_stream(self) -> Any:
        """The stream of the access logger's one handler when it writes bare messages (``text``), else
        None; judged again only when the handler or its formatter changes."""
        handlers = self.log.handlers
        handler = handlers[0] if len(handlers) == 1 else None
        key = (handler, handler.formatter if handler is not None else None)
        if key != self._judged:
            self._judged, self._stream = key, None
            formatter = key[1]
            if (
                type(handler) is logging.StreamHandler
                and type(formatter) is logging.Formatter
                and formatter._fmt == "%(message)s"
                and not self.log.filters
            ):
                self._stream = handler.stream
        return self._stream

    def _write(self, scope: Scope, status: int, size: int, user: str, duration: float) -> None:
        line = combined_line(scope, status, size, user=user)
        stream = self._plain_stream()
        if stream is not None:  # the text layout: the line is the whole record, logging adds nothing
            stream.write(line + "\n")
            stream.flush()
            return
        fields = {
            "http.request.method": scope.get("method", ""),
            "http.request.uri": scope.get("path", ""),
            "http.request.remoteaddr": (scope.get("client") or ("",))[0],
            "http.response.status": status,
            "http.response.written": size,
            "http.response.duration": round(duration, 6),
            "auth.user.name": user,
        }
        # makeRecord + handle: logger.info would also walk the stack for a caller nobody prints.
        record = self.log.makeRecord(
            ACCESS_LOGGER, logging.INFO, "", 0, line, (), None, None, {"access": fields}
        )
        self.log.handle(record)


def _quoted(text: str) -> str:
    """``json.dumps(text)``, without its cost for the usual printable text with nothing to escape."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)


def combined_line(scope: Scope, status: int, size: int, now: float | None = None, user: str = "") -> str:
    """``host - user [time] "METHOD target HTTP/v" status size "referer" "user-agent"``."""
    referer = agent = b""
    for name, value in scope.get("headers", ()):  # ASGI header names are lowercase
        if name == b"user-agent":
            agent = value
        elif name == b"referer":
            referer = value
    client = scope.get("client") or ("-", 0)
    target = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    when = _clock(int(time.time() if now is None else now))
    request = f"{scope.get('method', '-')} {target} HTTP/{scope.get('http_version', '1.1')}"
    return (
        f"{client[0]} - {user or '-'} [{when}] {_quoted(request)} {status} {size} "
        f"{_quoted(referer.decode('latin-1'))} {_quoted(agent.decode('latin-1'))}"
    )


@functools.lru_cache(maxsize=4)
def _clock(second: int) -> str:
    """The access log's timestamp, formatted once a second rather than once a request."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
