"""The checks, one module per workflow; ``SUITES`` in the order a run takes them.

::

    base.py        GET /v2/ (always first)
    pull.py        blobs and manifests by tag and digest, unknown ones 404
    push.py        streamed, monolithic and chunked uploads, mounts, manifest PUTs
    discovery.py   tag lists and pagination, referrers
    management.py  tag, manifest and blob deletes
    docker.py      schema 2, manifest lists, digests, Range, ETag, catalog, error envelope
"""

from __future__ import annotations

from registry_toolkit.validate.checks import base, discovery, docker, management, pull, push
from registry_toolkit.validate.checks.suite import Check, Suite

SUITES: tuple[Suite, ...] = (
    base.suite,
    pull.suite,
    push.suite,
    discovery.suite,
    management.suite,
    docker.suite,
)


def selected(workflows: tuple[str, ...]) -> list[Check]:
    """The checks of ``workflows`` (plus the base check), in run order."""
    return [
        check
        for suite in SUITES
        if suite.workflow == "base" or suite.workflow in workflows
        for check in suite
    ]


def all_checks() -> list[Check]:
    return [check for suite in SUITES for check in suite]


__all__ = ["SUITES", "Check", "Suite", "all_checks", "selected"]
