"""registry_toolkit.validate.fuzz: schemathesis, driven by generated/openapi.yaml, against a registry.

::

    schema.py     the document as schemathesis loads it; operations by operationId; checks to run
    senders.py    how a case reaches the registry: over HTTP (the run's session) or in-process (ASGI)
    findings.py   a failure: the operation, what broke, a curl command that reproduces it
    stateless.py  every operation with generated parameters, headers and bodies
    model.py      the machine's environment and its model of what the registry holds
    machine.py    the machine's plumbing and protocol steps (send, judge; upload and manifest steps)
    stateful.py   its rules: upload POST → PATCH → PUT, manifest PUT → GET → DELETE, and the reads between
    campaign.py   both, bounded by examples and seconds, seeded; findings become report results
"""

from __future__ import annotations
