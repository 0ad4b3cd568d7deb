"""The one binding: every operationId resolves to a handler, and every handler has a route."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import registry_impl.api.handlers as handlers
from registry_impl.api.app import operation_ids


def test_every_operation_id_resolves_to_a_coroutine() -> None:
    for operation_id in operation_ids():
        module_name, function = operation_id.rsplit(".", 1)
        target = getattr(importlib.import_module(module_name), function)
        assert inspect.iscoroutinefunction(target), operation_id


def test_no_handler_lacks_a_route() -> None:
    bound = set(operation_ids())
    for info in pkgutil.iter_modules(handlers.__path__):
        module = importlib.import_module(f"{handlers.__name__}.{info.name}")
        for name, value in vars(module).items():
            if (
                inspect.iscoroutinefunction(value)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                assert f"{module.__name__}.{name}" in bound, f"{module.__name__}.{name} has no route"


def test_streaming_handlers_declare_no_body_parameter() -> None:
    """A declared body parameter makes the framework buffer the whole upload (STACK-NOTES)."""
    for operation_id in operation_ids():
        module_name, function = operation_id.rsplit(".", 1)
        signature = inspect.signature(getattr(importlib.import_module(module_name), function))
        assert "body" not in signature.parameters and not any(
            p.kind is p.VAR_KEYWORD for p in signature.parameters.values()
        ), operation_id
