"""registry_toolkit.validate: ``registry-validate URL``, a conformance validator for registry implementers.

Workflow checks (pull, push, content discovery, content management, Docker V2 extras) cite the clause of the
API descriptor (``registry_spec``) each one tests and end as pass, fail, unsupported-optional or skip; the
report goes to the console, JUnit XML and one self-contained HTML page. ``--fuzz`` adds schemathesis runs
driven by ``generated/openapi.yaml``.

Modules, by what each owns::

    cli.py         the command line and exit status
    options.py     what a run is told: target, credentials, namespaces, workflows, optional features
    session.py     the httpx client (TLS, auth) and the log of exchanges
    auth.py        Basic and the Bearer token flow of WWW-Authenticate challenges
    exchange.py    a recorded request/response, redacted and cut to an excerpt
    content.py     the blobs, manifests, indexes and artifacts a run pushes
    clauses.py     the spec clauses checks cite, resolved against the descriptor
    outcome.py     statuses, the exceptions that end a check, results
    checks/        the checks, one module per workflow
    runner.py      runs the checks in order into a Report
    report.py      the Report and its console text
    junit.py       the Report as JUnit XML
    html.py        the Report as one self-contained HTML page
    fuzz/          schemathesis against the target: stateless per operation and stateful flows
"""

from __future__ import annotations

from registry_toolkit.validate.options import FEATURES, WORKFLOWS, Options
from registry_toolkit.validate.outcome import Result, Status
from registry_toolkit.validate.report import Report
from registry_toolkit.validate.runner import run

__all__ = ["FEATURES", "WORKFLOWS", "Options", "Report", "Result", "Status", "run"]
