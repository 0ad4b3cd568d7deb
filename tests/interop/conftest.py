"""Real processes for the interop tier: our server, the reference registry, skopeo; logs attached on failure.

``ours`` and ``reference`` are session-wide servers (tests use repository names of their own); ``spawn`` starts
servers for one test (data-directory and startup tests) and stops them afterwards, failed or not. A fixture
skips only when its binary is absent, and says which.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from testkit import s3
from testkit.processes import (
    Server,
    Spawner,
    ours_command,
    reference_command,
    start_ours,
    start_reference,
)
from testkit.skopeo import Skopeo


class CheckedSpawner(Spawner):
    """A Spawner that skips the test (with the reason) when the binary it needs is absent."""

    def ours(self, name: str = "ours", overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Server:
        require_ours()
        return super().ours(name, overrides, **kwargs)

    def reference(
        self, name: str = "reference", overrides: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Server:
        require_reference()
        return super().reference(name, overrides, **kwargs)


def require_ours() -> None:
    if ours_command() is None:
        pytest.skip("the `registry` console script is not installed (pip install -e '.[server]')")


def require_reference() -> None:
    if reference_command() is None:
        pytest.skip(
            "docker-registry (Debian's distribution 2.8.2) is not installed: apt-get install docker-registry"
        )


@pytest.fixture(scope="session", params=["filesystem", "s3"])
def ours(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Our registry with two workers (an upload session must survive landing on the other worker), once on
    the filesystem and once on S3 (a moto server on loopback; redirects off so clients read through us —
    the presigned redirects have their own tests in test_s3_serve.py)."""
    require_ours()
    if request.param == "filesystem":
        yield request.getfixturevalue("ours_filesystem")
        return
    s3.require()
    moto = request.getfixturevalue("session_moto")
    overrides = {
        "storage": {
            "filesystem": None,
            "s3": moto.params(moto.bucket("interop")),
            "redirect": {"disable": True},
        }
    }
    server = start_ours(tmp_path_factory.mktemp("ours-s3"), overrides, workers=2)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ours_filesystem(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Our registry on the filesystem with two workers (for tests that look a server up by name)."""
    require_ours()
    server = start_ours(tmp_path_factory.mktemp("ours"), workers=2)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def session_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[s3.MotoS3]:
    with s3.running_moto(tmp_path_factory.mktemp("moto-session")) as server:
        yield server


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_reference()
    server = start_reference(tmp_path_factory.mktemp("reference"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    spawner = CheckedSpawner(tmp_path)
    try:
        yield spawner
    finally:
        spawner.stop_all()


@pytest.fixture(scope="session")
def skopeo(tmp_path_factory: pytest.TempPathFactory) -> Skopeo:
    found = Skopeo.find(tmp_path_factory.mktemp("skopeo"))
    if found is None:
        pytest.skip("skopeo is not installed: apt-get install skopeo")
    return found


def _servers_of(item: pytest.Item) -> list[Server]:
    servers: list[Server] = []
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, Server):
            servers.append(value)
        elif isinstance(value, Spawner):
            servers.extend(value.servers)
    return servers


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in _servers_of(item):
            report.sections.append((f"{server.name} log ({server.log})", server.log_text()))
