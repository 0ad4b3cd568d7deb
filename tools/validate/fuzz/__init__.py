"""registry_toolkit.validate.fuzz: schemathesis, driven by generated/openapi.yaml, against a registry.

::

    schema.py     the document as schemathesis loads it; operations by operationId; checks to run
    senders.py    how a case reaches the registry: over HTTP (the run's session) or in-process (ASGI)
    findings.py   a failure: the operation, what broke, a curl command that reproduces it
    stateless.py  every operation with generated parameters, headers and bodies
    stateful.py   a state machine: upload POST → PATCH → PUT, manifest PUT → GET → DELETE, and the reads between
    campaign.py   both, bounded by examples and seconds, seeded; findings become report results
"""

from __future__ import annotations
