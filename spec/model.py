"""Frozen dataclasses that describe the registry HTTP API as data.

The shape follows distribution's ``registry/api/v2/descriptors.go``::

    Route(name, path, entity, description, path_params, methods)
    └── Method(method, operation_id, summary, description, requests, spec_id)
        └── Request(name, description, headers, query, body, successes, failures, spec_id)
            └── Response(status, description, headers, body, error_codes)

Patterns live in ``Param.pattern``, never inside ``Route.path``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Location = Literal["path", "query", "header"]
ParamType = Literal["string", "integer", "boolean"]


@dataclass(frozen=True)
class ErrorCode:
    """One registry error code: the ``code`` of the error envelope, with its HTTP status."""

    value: str
    message: str
    description: str
    status: int
    spec_ref: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Param:
    """A path, query or header parameter of a request, or a header of a response."""

    name: str
    location: Location
    description: str
    type: ParamType = "string"
    pattern: str | None = None
    format: str | None = None
    example: str | int | None = None
    required: bool = False
    minimum: int | None = None
    max_length: int | None = None
    enum: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this parameter's value."""
        out: dict[str, Any] = {"type": self.type}
        if self.pattern is not None:
            out["pattern"] = self.pattern
        if self.format is not None:
            out["format"] = self.format
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.enum:
            out["enum"] = list(self.enum)
        return out


@dataclass(frozen=True)
class Body:
    """A request or response body: its media types, schema (a component name or inline) and example."""

    content_types: tuple[str, ...]
    description: str = ""
    schema_ref: str | None = None
    schema: dict[str, Any] | None = None
    example: str | None = None
    binary: bool = False

    def schema_value(self) -> dict[str, Any]:
        if self.schema_ref is not None:
            return {"$ref": f"#/components/schemas/{self.schema_ref}"}
        if self.binary:
            return {"type": "string", "format": "binary"}
        return dict(self.schema or {})


@dataclass(frozen=True)
class Response:
    """One possible answer: status, headers, body and the error codes it may carry."""

    status: int
    description: str
    headers: tuple[Param, ...] = ()
    body: Body | None = None
    error_codes: tuple[ErrorCode, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Request:
    """A request variant of a method, named as distribution names them ("Mount Blob", ...)."""

    name: str
    description: str
    headers: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    body: Body | None = None
    successes: tuple[Response, ...] = ()
    failures: tuple[Response, ...] = ()
    spec_id: str | None = None


@dataclass(frozen=True)
class Method:
    """An HTTP method on a route, bound to one handler by ``operation_id``."""

    method: str
    operation_id: str
    summary: str
    description: str
    requests: tuple[Request, ...]
    spec_id: str | None = None


@dataclass(frozen=True)
class Route:
    """A URL template of the API with the methods it answers."""

    name: str
    path: str
    entity: str
    description: str
    path_params: tuple[Param, ...] = ()
    methods: tuple[Method, ...] = field(default_factory=tuple)

    def spec_ids(self) -> list[str]:
        ids = [m.spec_id for m in self.methods if m.spec_id]
        ids += [r.spec_id for m in self.methods for r in m.requests if r.spec_id]
        return sorted(set(ids))
