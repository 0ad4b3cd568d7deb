"""Spec clauses a check cites, resolved against our API descriptor (``registry_spec``).

A clause is an OCI endpoint id (``end-5``), an OCI error-code id (``code-4``) or one of our route names
(``catalog``); every one must resolve, so a check cannot cite a clause the descriptor does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry_spec import errors as spec_errors
from registry_spec.model import Method, Request, Route
from registry_spec.routes import ROUTES


@dataclass(frozen=True)
class Endpoint:
    route: Route
    method: Method
    request: Request | None


def endpoints(spec_id: str) -> list[Endpoint]:
    """The methods (and request variants) of the descriptor that carry ``spec_id``."""
    found: list[Endpoint] = []
    for route in ROUTES:
        for method in route.methods:
            variants = [r for r in method.requests if r.spec_id == spec_id]
            if variants:
                found += [Endpoint(route, method, r) for r in variants]
            elif method.spec_id == spec_id:
                found.append(Endpoint(route, method, None))
    return found


def success_statuses(spec_id: str, method: str | None = None) -> frozenset[int]:
    """The success statuses the descriptor documents for ``spec_id`` (optionally one HTTP method)."""
    statuses: set[int] = set()
    for endpoint in endpoints(spec_id):
        if method is not None and endpoint.method.method != method:
            continue
        requests = [endpoint.request] if endpoint.request else list(endpoint.method.requests)
        statuses.update(response.status for request in requests for response in request.successes)
    if not statuses:
        raise KeyError(f"{spec_id} documents no success for {method or 'any method'}")
    return frozenset(statuses)


def describe(clause: str) -> str:
    """One line naming what ``clause`` is; KeyError when the descriptor does not know it."""
    if clause.startswith("end-"):
        found = endpoints(clause)
        if not found:
            raise KeyError(clause)
        seen: list[str] = []
        for endpoint in found:
            text = f"{endpoint.method.method} {endpoint.route.path}"
            if text not in seen:
                seen.append(text)
        return f"OCI {clause}: " + ", ".join(seen)
    if clause.startswith("code-"):
        for code in spec_errors.REGISTRY.values():
            if code.spec_ref == clause:
                return f"OCI {clause}: {code.value} ({code.message})"
        raise KeyError(clause)
    if clause in spec_errors.REGISTRY:
        code = spec_errors.REGISTRY[clause]
        return f"error code {code.value} ({code.message})"
    for route in ROUTES:
        if route.name == clause:
            methods = "/".join(m.method for m in route.methods)
            return f"route {route.name}: {methods} {route.path}"
    raise KeyError(clause)


def describe_all(clauses: tuple[str, ...]) -> str:
    return "; ".join(describe(clause) for clause in clauses)


KNOWN_CODES: frozenset[str] = frozenset(spec_errors.REGISTRY)
