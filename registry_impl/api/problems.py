"""The framework's refusals of a request (validation, media type), answered as the descriptor says.

The framework says only *that* a request was refused. The code comes from the descriptor, through
the one route table (``registry_spec.router``): the first parameter whose value breaks its grammar,
in the order the descriptor declares them (path, query, headers), is answered with its code
(``Param.error``, or the operation's ``param_errors``); else a required query parameter that is
missing, with its code; else the operation's ``rejected`` response for the framework's status.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from registry_spec.model import ErrorCode, Param
from registry_spec.params import REQUEST_INVALID
from registry_spec.router import ROUTER, Operation, Rule
from starlette.responses import Response

from registry_impl.api.errors import envelope

__all__ = ["refusal"]

DETAIL_MAX = 500  # characters of a refused value or of the framework's reason echoed back


def _values(
    operation: Operation, path_params: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str]
) -> Iterator[tuple[Rule, str]]:
    for rule in operation.path:
        if rule.param.name in path_params:
            yield rule, path_params[rule.param.name]
    for name, rule in operation.query.items():
        if name in query:
            yield rule, query[name]
    for name, rule in operation.headers.items():
        if name in headers:
            yield rule, headers[name]


def _bad_value(
    operation: Operation, path_params: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str]
) -> tuple[ErrorCode, Param, str] | None:
    for rule, value in _values(operation, path_params, query, headers):
        if not rule.valid(value):
            code = rule.error(value)
            if code is not None:
                return code, rule.param, value
    return None


def refusal(
    operation_id: str,
    path_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    status: int,
    reason: str,
) -> Response:
    """The error envelope for a request the framework refused with ``status`` (``headers``: lowercased names)."""
    operation = ROUTER.operations.get(operation_id)
    if operation is not None:
        bad = _bad_value(operation, path_params, query, headers)
        if bad is not None:
            code, param, value = bad
            return envelope([(code, None, {param.name: value[:DETAIL_MAX]})])
        for rule in operation.required_query:
            if rule.param.name not in query and rule.param.error is not None:
                message = f"query parameter {rule.param.name!r} is required"
                return envelope([(rule.param.error, message, {})])
    response = operation.refusal(status) if operation is not None else REQUEST_INVALID
    return envelope(
        [(response.error_codes[0], None, {"reason": reason[:DETAIL_MAX]})], status=response.status
    )
