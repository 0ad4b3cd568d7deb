"""Memory and start-up (issue 19): what the supervisor and a worker import for the default configuration,
connexion's unused imports deferred, the UI built on its first request, malloc arenas limited.

The import checks run in fresh interpreters (this test process has imported everything already).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from registry_impl.api.app import create_app
from registry_impl.api.context import AppState
from registry_impl.api.imports import OnFirstUse, unused_dependencies_skipped
from registry_impl.memory import limit_malloc_arenas, trim_while_running
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.registry import Registry
from registry_impl.ui.app import CSP
from registry_impl.ui.mount import OnFirstRequest, WithUI, with_ui_on_demand

# Loaded only when a configuration asks for what needs them.
WORKER_NEVER = (
    "registry_impl.ui.app",
    "registry_impl.proxy",
    "registry_client",
    "cryptography",
    "prometheus_client",
    "httpx",
    "requests",
    "flask",
    "jinja2",
    "rich",
    "click",
    "markdown_it",
    "importlib.metadata",
)
# The request framework: a worker builds it in the background once it serves the fast path (api.stack).
FRAMEWORK = ("connexion", "starlette.applications", "registry_impl.api.app", "jsonschema", "werkzeug")
SUPERVISOR_NEVER = (
    *WORKER_NEVER,
    *FRAMEWORK,
    "http.server",  # the debug listener's (werkzeug imports it in a worker)
)

WORKER = """
import json, sys
import registry_impl.server as server
server.app_from_environment()
print(json.dumps(sorted(sys.modules)))
"""
# A worker's app through its lifespan startup, then a request only the framework serves.
WORKER_SERVING = """
import asyncio, json, sys
import registry_impl.server as server
app = server.app_from_environment()

async def main():
    messages = asyncio.Queue()
    await messages.put({"type": "lifespan.startup"})
    started = asyncio.Event()

    async def send(message):
        if message["type"] == "lifespan.startup.complete":
            started.set()

    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, messages.get, send))
    await started.wait()
    print(json.dumps(sorted(sys.modules)))
    answer = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def respond(message):
        answer.append(message)

    path = "/v2/a/blobs/uploads/u"
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [], "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
             "server": ("127.0.0.1", 5000), "client": ("127.0.0.1", 1), "root_path": ""}
    await app(scope, receive, respond)
    print(answer[0]["status"])
    await messages.put({"type": "lifespan.shutdown"})
    await lifespan
    print(json.dumps(sorted(sys.modules)))

asyncio.run(main())
"""
# serve() up to the moment granian would fork the worker.
SUPERVISOR = """
import json, sys
import granian.server.mp as mp
def stop(self, *args, **kwargs):
    print(json.dumps(sorted(sys.modules)))
    raise SystemExit(0)
mp.MPServer.serve = stop
from registry_impl.cli import main
main(["serve", sys.argv[1]])
"""


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
        "http:\n  addr: 127.0.0.1:0\n  secret: test\n"
    )
    return path


def _modules(code: str, config: Path) -> set[str]:
    return set(json.loads(_run(code, config)[-1]))


def _run(code: str, config: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "PROMETHEUS_", "OTEL_"))}
    env["REGISTRY_CONFIGURATION_PATH"] = str(config)
    out = subprocess.run(
        [sys.executable, "-c", code, str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    return out.strip().splitlines()


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


def test_a_worker_of_the_default_configuration_imports_only_what_it_uses(tmp_path: Path) -> None:
    modules = _modules(WORKER, _config(tmp_path))
    assert "registry_impl.api.fastpath" in modules and "registry_impl.ui.mount" in modules  # a real worker
    assert _loaded(modules, (*WORKER_NEVER, *FRAMEWORK)) == []


def test_a_worker_builds_the_framework_once_it_serves(tmp_path: Path) -> None:
    """Started, the worker has not waited for the framework; a request only the framework serves waits for
    it and is answered by it; nothing the configuration does not use came with it."""
    lines = _run(WORKER_SERVING, _config(tmp_path))
    printed = [line for line in lines if line.startswith('["') or line.isdigit()]
    at_start, status, at_end = printed
    assert "registry_impl.api.fastpath" in json.loads(at_start)
    assert status == "404"  # BLOB_UPLOAD_UNKNOWN, from the framework's upload_status
    modules = set(json.loads(at_end))
    assert "connexion" in modules and "registry_impl.api.app" in modules
    assert _loaded(modules, WORKER_NEVER) == []


def test_the_supervisor_does_not_load_the_web_framework(tmp_path: Path) -> None:
    modules = _modules(SUPERVISOR, _config(tmp_path))
    assert "granian.server.mp" in modules and "registry_impl.config" in modules
    assert _loaded(modules, SUPERVISOR_NEVER) == []


def test_a_deferred_module_is_the_real_one_on_first_use() -> None:
    name = "email.quoprimime"  # a small stdlib module this process has not needed
    sys.modules.pop(name, None)
    stand_in = OnFirstUse(name, ("unquote",))
    sys.modules[name] = stand_in
    assert not hasattr(stand_in, "__path__")  # the import system's questions answer without importing
    assert sys.modules[name] is stand_in
    assert stand_in.unquote("=41") == "A"  # a deferred callable: imported, then called
    assert sys.modules[name] is not stand_in and stand_in.header_length(b"ab") == 2


def test_skipped_imports_read_as_absent_only_while_connexion_is_imported() -> None:
    names = ("flask", "httpx._main", "httpx", "requests", "jinja2", "starlette.testclient")
    before = {name: sys.modules.get(name) for name in names}
    with unused_dependencies_skipped():
        for name in names:
            if before[name] is None:  # not imported by this process: skipped or a stand-in
                assert name in sys.modules
                assert sys.modules[name] is None or isinstance(sys.modules[name], OnFirstUse)
            else:
                assert sys.modules[name] is before[name]  # a module already imported is left alone
        if before["flask"] is None:
            with pytest.raises(ImportError):
                import flask  # noqa: F401
    assert {name: sys.modules.get(name) for name in names} == before


@pytest.mark.anyio
async def test_the_ui_is_built_on_its_first_request() -> None:
    state = AppState(registry=Registry(InMemoryDriver()), secret=b"s", max_tags=0, max_catalog=100)
    app = with_ui_on_demand(create_app(state), delete_enabled=False, state=state)
    assert isinstance(app, WithUI) and isinstance(app.ui, OnFirstRequest)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/v2/")).status_code == 200
        assert app.ui._app is None  # the registry's paths never build it
        page = await client.get("/ui/")
        assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
        built = app.ui._app
        assert built is not None
        assert (await client.get("/ui/repositories/UPPER/case")).status_code == 400
        assert app.ui._app is built  # built once


def test_malloc_arenas_are_limited_unless_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert limit_malloc_arenas() is sys.platform.startswith("linux")


def test_one_trimming_thread_per_process() -> None:
    first = trim_while_running(interval=3600)
    if not sys.platform.startswith("linux"):
        assert first is None
        return
    assert first is not None and first.is_alive() and first.daemon
    assert trim_while_running() is first


COLLECTOR = """
import gc, json, os, sys
import granian.server.mp as mp
seen = {}
def stop(self, *args, **kwargs):
    seen["supervisor at fork"] = gc.isenabled()
    raise SystemExit(0)
mp.MPServer.serve = stop
from registry_impl import cli, server
paused = []
real_load = server.load_config
def load(*args, **kwargs):
    paused.append(not gc.isenabled())
    return real_load(*args, **kwargs)
server.load_config = load
try:
    cli.main(["serve", sys.argv[1]])
except SystemExit:
    pass
seen["supervisor loaded its config paused"] = paused[0]
server.app_from_environment()  # as a worker of ``registry serve`` (CHECKED_ENV is set by serve)
seen["worker built its app paused"] = paused[1]
seen["worker after its app"] = gc.isenabled()
seen["worker froze its app"] = gc.get_freeze_count() > 1000
print(json.dumps(seen))
"""


def test_the_collector_is_paused_while_starting_and_on_afterwards(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "PROMETHEUS_", "OTEL_"))}
    config = _config(tmp_path)
    env["REGISTRY_CONFIGURATION_PATH"] = str(config)
    out = subprocess.run(
        [sys.executable, "-c", COLLECTOR, str(config)], capture_output=True, text=True, env=env, timeout=60
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {
        "supervisor at fork": True,
        "supervisor loaded its config paused": True,
        "worker built its app paused": True,
        "worker after its app": True,
        "worker froze its app": True,
    }, out.stderr[-2000:]
