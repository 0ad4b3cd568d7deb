"""Many clients at once against a real server, in every configuration: nothing acknowledged is lost or wrong.

40 client threads mix every upload style, manifest PUTs by tag and by digest, moves of one shared tag,
tag and manifest deletes, and reads of what others acknowledged (see ``testkit.workload``). During the run
no answer is a 5xx and no read serves bytes that do not hash to their digest; afterwards every acknowledged
blob, manifest and tag reads back exactly, and every tag a list names resolves.
"""

from __future__ import annotations

import os

from testkit.processes import Server
from testkit.workload import check, run_workload

CLIENTS = 40
SECONDS = float(os.environ.get("STRESS_SECONDS", "8"))


def test_many_clients_mixing_writes_deletes_and_reads(server: Server) -> None:
    model = run_workload([server.url], CLIENTS, SECONDS)
    problems = check([server.url], model)
    assert not problems, "\n".join(problems[:20])
    # The run did what it claims: every kind of operation happened, many times.
    for kind in ("upload-single", "upload-monolithic", "upload-chunked", "upload-streamed", "read-blob"):
        assert model.counts.get(kind, 0) >= 10, model.counts
    assert len(model.manifests) >= 40 and len(model.tags) >= 20 and len(model.shared) >= 5, model.counts
    assert model.deleted, "no manifest was deleted"
