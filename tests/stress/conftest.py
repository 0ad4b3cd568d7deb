"""Real server processes for the stress tier, in every configuration the README offers.

``server`` is one process per configuration for the whole session: granian with one worker (the default),
granian with two, uvicorn with one. Tests use repository names of their own. In CI (``CI=true``) a missing
``registry`` script fails instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from testkit.disks import on_disk
from testkit.processes import Server, ours_command, start_ours

CONFIGURATIONS = {"granian-1": ("granian", 1), "granian-2": ("granian", 2), "uvicorn-1": ("uvicorn", 1)}


def require_ours() -> None:
    if ours_command() is None:
        message = "the `registry` console script is not installed (pip install -e .)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session", params=sorted(CONFIGURATIONS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_ours()
    kind, workers = CONFIGURATIONS[request.param]
    with on_disk(tmp_path_factory.mktemp(f"stress-{request.param}")) as directory:  # the O_DIRECT writers too
        started = start_ours(directory, server=kind, workers=workers)
        try:
            yield started
        finally:
            started.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--crash-rounds",
        type=int,
        default=int(os.environ.get("STRESS_CRASH_ROUNDS", "3")),
        help="kill -9 rounds per storage in tests/stress/test_crash.py (CI: 3; the issue's bar: 20)",
    )


    parser.addoption(
        "--gc-runs",
        type=int,
        default=int(os.environ.get("STRESS_GC_RUNS", "2")),
        help="rounds of tests/stress/test_online_gc.py (CI: 2; the issue's bar: 10)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Online GC rounds take up to ~45 s each on moto: the test's timeout grows with ``--gc-runs``."""
    runs = int(config.getoption("--gc-runs"))
    for item in items:
        if "gc_runs" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(120 + 60 * runs))


@pytest.fixture
def crash_rounds(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--crash-rounds"))
