"""How big and how long: the full run, ``--quick`` (a few minutes per data dir) and ``--smoke`` (the test's seconds)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    rounds: int  # A/B rounds; the order of the two servers alternates between rounds
    blob_mib: int  # the blob pushed (three ways) and pulled
    resource_mib: int  # the blob pushed and pulled while RSS and CPU are sampled
    chunk_mib: int  # PATCH size of the chunked push
    load_seconds: float  # each manifest wrk / ab run
    list_seconds: float  # each tags-list / catalog wrk run (slow pages: longer runs, fewer connections)
    warmup_seconds: float  # one untimed run per request scenario and server before the rounds
    tags: int  # tags on the tag-list repository
    repositories: int  # repositories seeded for the catalog page
    catalog_page: int  # n= of the catalog page
    cold_starts: int  # spawns per server for the cold-start median
    connections: int = 64  # manifest GET / HEAD
    list_connections: int = 4  # tags list, catalog: a queue of slow pages would outlive the run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_rounds(self, rounds: int | None) -> Profile:
        return replace(self, rounds=rounds) if rounds else self


FULL = Profile("full", 3, 512, 1024, 8, 10.0, 10.0, 2.0, 2000, 10_000, 1000, 5)
QUICK = Profile("quick", 2, 128, 256, 8, 2.0, 3.0, 1.0, 2000, 10_000, 1000, 3)
SMOKE = Profile("smoke", 1, 4, 16, 1, 1.0, 1.0, 0.0, 100, 200, 1000, 1)
