"""registry_impl.logs: the log section's formatters and fields, and the combined-format access log."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from registry_impl import logs
from registry_impl.config import AccessLogConfig, LogConfig

pytestmark = pytest.mark.unit


def _record(message: str = "hello world") -> logging.LogRecord:
    return logging.LogRecord("registry", logging.WARNING, __file__, 1, message, (), None)


def test_json_formatter_has_distributions_keys_and_the_fields() -> None:
    line = json.loads(logs.JSONFormatter({"service": "registry", "env": "dev"}).format(_record()))
    assert line["msg"] == "hello world" and line["level"] == "warning"
    assert line["service"] == "registry" and line["env"] == "dev" and "time" in line


def test_logstash_formatter() -> None:
    line = json.loads(logs.JSONFormatter({"service": "registry"}, logstash=True).format(_record()))
    assert line["message"] == "hello world" and line["@version"] == "1" and "@timestamp" in line
    assert line["service"] == "registry"


def test_text_formatter_is_logrus_like() -> None:
    text = logs.TextFormatter({"service": "registry"}).format(_record())
    assert 'level=warning msg="hello world"' in text and "service=registry" in text


def test_configure_sets_level_and_silences_the_access_log_when_disabled() -> None:
    logs.configure(LogConfig(level="warn", formatter="json", accesslog=AccessLogConfig(disabled=True)))
    try:
        assert logging.getLogger().level == logging.WARNING
        assert logging.getLogger(logs.ACCESS_LOGGER).disabled
        logs.configure(LogConfig())
        assert not logging.getLogger(logs.ACCESS_LOGGER).disabled
    finally:
        logging.getLogger(logs.ACCESS_LOGGER).disabled = False


@pytest.mark.anyio
async def test_access_log_writes_one_combined_line() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("abc", status_code=202)(scope, receive, send)

    access = logging.getLogger(logs.ACCESS_LOGGER)
    access.disabled = False
    records: list[logging.LogRecord] = []
    collect = logging.Handler()
    collect.emit = records.append  # type: ignore[method-assign]
    access.addHandler(collect)
    try:
        transport = httpx.ASGITransport(logs.AccessLog(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/v2/x?n=1", headers={"User-Agent": "ua/1"})
    finally:
        access.removeHandler(collect)
    lines = [r.getMessage() for r in records]
    assert len(lines) == 1, lines
    assert '"GET /v2/x?n=1 HTTP/1.1" 202 3 "" "ua/1"' in lines[0]


def test_reportcaller_adds_func_and_file() -> None:
    line = json.loads(logs.JSONFormatter({}, caller=True).format(_record()))
    assert line["file"] == f"{__file__}:1" and line["func"].endswith(".None")
    assert "func=" in logs.TextFormatter({}, caller=True).format(_record())
