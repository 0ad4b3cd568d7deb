"""Turn the descriptor into the plain values the templates loop over (merging request variants)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import errors as E
from . import params as P
from .model import Body, ErrorCode, Method, Param, Request, Response, Route
from .routes import GLOBAL_FAILURES, ROUTES


@dataclass(frozen=True)
class ResponseView:
    status: str
    description: str
    headers: list[dict[str, Any]]
    content: dict[str, Any]


@dataclass(frozen=True)
class OperationView:
    method: str
    operation_id: str
    summary: str
    description: str
    tags: list[str]
    spec_ids: list[str]
    variants: list[str]
    parameters: list[dict[str, Any]]
    request_body: dict[str, Any] | None
    responses: list[ResponseView]


@dataclass(frozen=True)
class PathView:
    path: str
    operations: list[OperationView]


def openapi_param(param: Param, required: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": param.name, "in": param.location, "description": param.description}
    out["required"] = (
        True if param.location == "path" else bool(param.required if required is None else required)
    )
    out["schema"] = param.schema()
    if param.location == "header" and param.type == "integer":
        out["schema"] = {"type": "string", "pattern": "^[0-9]+$"}  # headers travel as text
    if param.example is not None:
        out["example"] = str(param.example) if param.location == "header" else param.example
    return out


def header_object(param: Param) -> dict[str, Any]:
    """A response header; numbers are described as digit strings, as they travel."""
    schema = param.schema()
    if schema.get("type") == "integer":
        schema = {"type": "string", "pattern": "^[0-9]+$"}
    out: dict[str, Any] = {"description": param.description, "schema": schema}
    if param.example is not None:
        out["example"] = str(param.example)
    return out


def body_content(body: Body) -> dict[str, Any]:
    return {ct: {"schema": body.schema_value()} for ct in body.content_types}


def codes_text(codes: list[ErrorCode]) -> str:
    return "Error codes: " + ", ".join(f"`{c.value}`" for c in codes) + "." if codes else ""


def merged_parameters(route: Route, method: Method) -> list[dict[str, Any]]:
    out = [openapi_param(p) for p in route.path_params]
    seen: dict[tuple[str, str], tuple[Param, list[bool]]] = {}
    for request in method.requests:
        for param in request.headers + request.query:
            key = (param.name.lower(), param.location)
            seen.setdefault(key, (param, []))[1].append(param.required)
    for param, flags in seen.values():
        out.append(openapi_param(param, required=len(flags) == len(method.requests) and all(flags)))
    return out


def merged_body(method: Method) -> dict[str, Any] | None:
    bodies = [r.body for r in method.requests if r.body is not None]
    if not bodies:
        return None
    content: dict[str, Any] = {}
    for body in bodies:
        content.update(body_content(body))
    description = " ".join(dict.fromkeys(b.description for b in bodies))
    return {"description": description, "required": len(bodies) == len(method.requests), "content": content}


def merged_responses(method: Method, with_globals: bool = True) -> list[ResponseView]:
    groups: dict[int, list[Response]] = {}
    for request in method.requests:
        for response in request.successes + request.failures:
            groups.setdefault(response.status, []).append(response)
    for response in method.rejected:
        groups.setdefault(response.status, []).append(response)
    if with_globals:
        for response in GLOBAL_FAILURES:
            groups.setdefault(response.status, []).append(response)
    views = []
    for status in sorted(groups):
        responses = groups[status]
        codes = list(dict.fromkeys(c for r in responses for c in r.error_codes))
        text = " ".join(dict.fromkeys(r.description for r in responses))
        if codes:
            text += " " + codes_text(codes)
        headers: dict[str, Param] = {P.API_VERSION.name: P.API_VERSION}
        content: dict[str, Any] = {}
        for response in responses:
            headers.update({h.name: h for h in response.headers})
            if response.body is not None and method.method != "HEAD":
                content.update(body_content(response.body))
        views.append(
            ResponseView(
                str(status), text, [{"name": k, **header_object(v)} for k, v in headers.items()], content
            )
        )
    return views


def operation_view(route: Route, method: Method) -> OperationView:
    spec_ids = sorted({i for i in [method.spec_id, *(r.spec_id for r in method.requests)] if i})
    description = method.description
    if len(method.requests) > 1:
        description += " Request variants: " + "; ".join(r.name for r in method.requests) + "."
    return OperationView(
        method=method.method.lower(),
        operation_id=method.operation_id,
        summary=method.summary,
        description=description,
        tags=[route.entity],
        spec_ids=spec_ids,
        variants=[r.name for r in method.requests],
        parameters=merged_parameters(route, method),
        request_body=merged_body(method),
        responses=merged_responses(method),
    )


def path_views() -> list[PathView]:
    return [PathView(r.path, [operation_view(r, m) for m in r.methods]) for r in ROUTES]


def error_codes() -> list[ErrorCode]:
    return list(E.REGISTRY.values())


def used_error_codes() -> set[str]:
    """Values of every error code some response of the descriptor carries."""
    used = {c.value for r in GLOBAL_FAILURES for c in r.error_codes}
    for route in ROUTES:
        for method in route.methods:
            for request in method.requests:
                used |= {c.value for resp in request.successes + request.failures for c in resp.error_codes}
    return used


def example_request(route: Route, method: Method, request: Request) -> str:
    """A plausible HTTP request for one variant, built from the parameters' examples."""
    path = route.path
    for param in route.path_params:
        path = path.replace("{" + param.name + "}", str(param.example))
    query = "&".join(f"{q.name}={q.example}" for q in request.query)
    lines = [f"{method.method} {path}{'?' + query if query else ''}", "Host: <registry host>"]
    lines += [f"{h.name}: {h.example}" for h in request.headers]
    if request.body is not None:
        lines += [f"Content-Type: {request.body.content_types[0]}", "", str(request.body.example)]
    return "\n".join(lines)
