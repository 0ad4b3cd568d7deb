"""kill -9 at random moments of a mixed workload, restart on the same storage, lose nothing acknowledged.

On the filesystem (one server) and on S3 (two replicas on one moto bucket, clients spread over both),
40 clients (16 on S3) run the workload of ``testkit.workload`` while the server processes are killed (SIGKILL to the
whole process group) at a random moment of each round and restarted on the same port and storage. Clients
whose request died treat its outcome as unknown, and an upload they had open either resumes from what the
session holds or answers 404. Afterwards: every acknowledged blob, manifest and tag reads back with its
bytes, no tag is torn (listed but not resolving, or pointing at a revision that does not resolve), and
each tag holds its last acknowledged value or one a request with an unknown outcome may have written.
``--crash-rounds N`` (or ``STRESS_CRASH_ROUNDS``) sets the rounds; CI runs 3 per storage.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit import s3
from testkit.disks import on_disk
from testkit.processes import Server, ServerFailed, start_ours
from testkit.workload import check, run_workload

SECRET = "stress-crash-shared-secret"


class Fleet:
    """The server processes of one storage setup, killed and restarted together."""

    def __init__(
        self, tmp_path: Path, overrides: dict[str, Any], replicas: int, clients: int, per_round: float
    ) -> None:
        self.clients, self.per_round = clients, per_round
        self.min_manifests = 20 if replicas == 1 else 5  # moto is slow, and S3 leases of the dead expire late
        self.dirs = [tmp_path / f"replica{i}" for i in range(replicas)]
        self.overrides = {"http": {"secret": SECRET}, **overrides}
        self.servers: list[Server] = [start_ours(d, self.overrides) for d in self.dirs]
        self.kills = 0

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def kill_and_restart(self) -> None:
        for server in self.servers:
            os.killpg(server.proc.pid, signal.SIGKILL)
        for server in self.servers:
            server.proc.wait()
        self.kills += 1
        self.servers = [self._restart(d, old) for d, old in zip(self.dirs, self.servers, strict=True)]

    def _restart(self, directory: Path, old: Server) -> Server:
        """The same port and storage; a killed worker can hold the listening socket a moment longer."""
        for attempt in range(20):
            try:
                return start_ours(directory, self.overrides, port=old.port, root=old.root)
            except ServerFailed as exc:
                if "already in use" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.25)
        raise AssertionError("unreachable")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture(params=["filesystem", "s3"])
def fleet(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fleet]:
    with contextlib.ExitStack() as stack:
        if request.param == "filesystem":
            directory = stack.enter_context(on_disk(tmp_path))  # the O_DIRECT writers too
            started = Fleet(directory, {}, replicas=1, clients=40, per_round=2.5)
        else:
            s3.require()
            moto = s3.start_moto(tmp_path / "moto")
            request.addfinalizer(moto.stop)
            storage = {"filesystem": None, "s3": moto.params(moto.bucket("crash")), "redirect": {"disable": True}}
            # moto serves a few hundred requests a second: fewer clients, longer rounds
            started = Fleet(tmp_path, {"storage": storage}, replicas=2, clients=16, per_round=5.0)
        try:
            yield started
        finally:
            started.stop()


def test_kill_9_loses_nothing_acknowledged(fleet: Fleet, crash_rounds: int) -> None:
    rng = random.Random(crash_rounds)
    per_round = fleet.per_round
    seconds = crash_rounds * (per_round + 2) + 3

    def killer(stop: threading.Event) -> None:
        for _ in range(crash_rounds):
            time.sleep(rng.uniform(0.5, per_round))
            fleet.kill_and_restart()

    model = run_workload(fleet.urls, fleet.clients, seconds, during=killer)
    problems = check(fleet.urls, model)
    assert fleet.kills == crash_rounds
    assert not problems, "\n".join(problems[:20])
    assert model.counts.get("unknown", 0) > 0, "no request was cut by a kill: the test killed nothing"
    assert len(model.manifests) >= fleet.min_manifests, model.counts
