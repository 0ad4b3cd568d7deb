"""A fuzzing campaign: push known content, fuzz every operation, run the state machine; findings → results.

Bounded by examples (per operation, and machine runs) and by seconds; seeded, so a run repeats with the same
seed (the seed is in every result's message).
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from registry_toolkit.validate.clauses import describe
from registry_toolkit.validate.fuzz.findings import Findings
from registry_toolkit.validate.fuzz.model import Env, sha256
from registry_toolkit.validate.fuzz.schema import clause_of, operations
from registry_toolkit.validate.fuzz.senders import AsgiSender, HttpSender, Sender, header_of
from registry_toolkit.validate.fuzz.stateful import run_machine
from registry_toolkit.validate.fuzz.stateless import Known, deadline, fuzz_operation
from registry_toolkit.validate.options import Options
from registry_toolkit.validate.outcome import Result, Status
from registry_toolkit.validate.session import Session
from schemathesis import GenerationMode

DELETES = ("delete_manifest", "delete_blob")
STEPS = 25  # steps per state machine run
PHASES = {"stateless": ("fuzz", "generated cases"), "stateful": ("fuzz-flow", "stateful flows")}


def fuzz_target(options: Options, session: Session) -> list[Result]:
    """Fuzz the registry of a validation run, confined to its namespace."""
    sender = HttpSender(session.client, options.base_url)
    return campaign(
        sender,
        namespace=f"{options.namespace}/fuzz",
        deletes=options.deletes,
        max_examples=options.max_examples,
        seconds=options.fuzz_seconds,
        seed=options.seed,
        confine=True,
    )


def fuzz_app(app: Any, *, max_examples: int, machine_runs: int | None = None, seed: int = 0) -> list[Result]:
    """Fuzz an in-process ASGI application, every generated repository name allowed."""
    return campaign(
        AsgiSender(app),
        namespace="fuzz",
        deletes=True,
        max_examples=max_examples,
        machine_runs=machine_runs,
        seconds=None,
        seed=seed,
        confine=False,
    )


def campaign(
    sender: Sender,
    *,
    namespace: str,
    deletes: bool,
    max_examples: int,
    seconds: float | None,
    seed: int | None,
    confine: bool,
    machine_runs: int | None = None,
) -> list[Result]:
    seed = seed if seed is not None else random.randrange(2**32)
    findings = Findings(sender.base_url)
    ops = {k: v for k, v in operations().items() if deletes or k not in DELETES}
    expired = deadline(seconds)
    known = seed_content(ops, sender, namespace)
    for mode in GenerationMode:
        for operation in ops.values():
            fuzz_operation(
                operation,
                sender,
                findings,
                known=known,
                confine=namespace if confine else None,
                max_examples=max_examples,
                seed=seed,
                expired=expired,
                mode=mode,
            )
    findings.source = "stateful"
    env = Env(ops, sender, findings, f"{namespace}/flow", deletes, expired)
    run_machine(env, max_examples=machine_runs or max_examples, steps=STEPS, seed=seed)
    return results(findings, ops, seed)


def seed_content(ops: dict[str, Any], sender: Sender, namespace: str) -> Known:
    """Push a config, a layer and a manifest tagged ``fuzz``: values that exist, for the generated cases."""
    config, layer = b'{"architecture":"amd64","os":"linux"}', b"fuzz layer"
    for data in (config, layer):
        started = sender.send(ops["start_upload"].Case(path_parameters={"name": namespace}))
        location = urlsplit(header_of(started, "Location") or "")
        query = dict(parse_qsl(location.query))
        uuid = location.path.rsplit("/", 1)[-1]
        sender.send(
            ops["complete_upload"].Case(
                path_parameters={"name": namespace, "uuid": uuid},
                query={**query, "digest": sha256(data)},
                body=data,
                media_type="application/octet-stream",
            )
        )
    manifest = (
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":'
        f'"application/vnd.oci.image.config.v1+json","digest":"{sha256(config)}","size":{len(config)}}},'
        f'"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{sha256(layer)}","size":{len(layer)}}}]}}'
    ).encode()
    media_type = "application/vnd.oci.image.manifest.v1+json"
    sender.send(
        ops["put_manifest"].Case(
            path_parameters={"name": namespace, "reference": "fuzz"},
            headers={"Content-Type": media_type},
            body=manifest,
            media_type=media_type,
        )
    )
    digests = [sha256(config), sha256(layer), sha256(manifest)]
    return {"name": [namespace], "digest": digests, "reference": ["fuzz", sha256(manifest)]}


def results(findings: Findings, ops: dict[str, Any], seed: int) -> list[Result]:
    out: list[Result] = []
    for source, (workflow, what) in PHASES.items():
        for name, operation in ops.items():
            count = findings.examples.get((source, name), 0)
            if source == "stateful" and not count:
                continue
            found = findings.of(source, name)
            result = Result(
                check_id=f"{workflow}.{name}",
                workflow=workflow,
                title=f"{operation.method.upper()} {operation.path}: {count} {what} (seed {seed})",
                clause=clause_of(operation),
                clause_text=describe(clause_of(operation)),
                status=Status.FAIL if found else Status.PASS,
            )
            if found:
                result.message = f"{len(found)} finding(s) in {count} requests (seed {seed}):\n" + "\n".join(
                    f.text() for f in found
                )
                result.reproduce = found[0].curl
                result.failing = found[0].exchange
                result.exchanges = [f.exchange for f in found if f.exchange is not None]
            out.append(result)
    return out
