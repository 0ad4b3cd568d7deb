"""Frozen dataclasses that describe the registry HTTP API as data.

The shape follows distribution's ``registry/api/v2/descriptors.go``::

    Route(name, path, entity, description, path_params, methods)
    └── Method(method, operation_id, summary, description, requests, spec_id, fast, param_errors, rejected)
        └── Request(name, description, headers, query, body, successes, failures, spec_id)
            └── Response(status, description, headers, body, error_codes)

Patterns live in ``Param.pattern``, never inside ``Route.path``. What a bad value of a parameter is
answered with lives in ``Param.error`` (``Method.param_errors`` where one operation answers otherwise),
what a refused request no parameter explains is answered with in ``Method.rejected``:
``registry_spec.router`` compiles all of it into the one table every matcher reads.
"""

from __future__ import annotations

import re
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
    # The code of a value that breaks the grammar above (or, for a query parameter, one given twice);
    # ``error_if``: (regex, code) pairs, the first whose regex is found in the bad value decides instead.
    error: ErrorCode | None = None
    error_if: tuple[tuple[str, ErrorCode], ...] = ()
    repeatable: bool = False  # a query parameter that may be given more than once

    def error_for(self, value: str) -> ErrorCode | None:
        """The code a bad ``value`` of this parameter is answered with (None: the parameter has none)."""
        for regex, code in self.error_if:
            if re.search(regex, value):
                return code
        return self.error

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
    """An HTTP method on a route, bound to one handler by ``operation_id`` (a short name, e.g. ``get_manifest``).

    ``fast``: the operation may skip the framework (routing, validation, response wrapping) when every
    parameter (path, query, header) is valid by the descriptor and a body's media type is one listed, as
    its answer does not depend on them otherwise.
    ``param_errors``: (parameter name, code) pairs overriding ``Param.error`` for this operation.
    ``rejected``: what the operation answers when the framework refuses a request that no parameter
    explains (a body against its schema, an unlisted media type): the response with the framework's
    status, else the first; none given, ``params.REQUEST_INVALID``.
    """

    method: str
    operation_id: str
    summary: str
    description: str
    requests: tuple[Request, ...]
    spec_id: str | None = None
    fast: bool = False
    param_errors: tuple[tuple[str, ErrorCode], ...] = ()
    rejected: tuple[Response, ...] = ()


@dataclass(frozen=True)
class Route:
    """A URL template of the API with the methods it answers."""

    name: str
    path: str
    entity: str
    description: str
    path_params: tuple[Param, ...] = ()
    methods: tuple[Method, ...] = field(default_factory=tuple)
    #: Query parameters this registry's own Locations carry on the route, opaque to clients (who send the
    #: Location back as given): not part of the API, so not rendered; any value is let through to the handler.
    opaque_query: tuple[str, ...] = ()

    def spec_ids(self) -> list[str]:
        ids = [m.spec_id for m in self.methods if m.spec_id]
        ids += [r.spec_id for m in self.methods for r in m.requests if r.spec_id]
        return sorted(set(ids))
