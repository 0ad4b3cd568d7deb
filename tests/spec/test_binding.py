"""The one binding: every operationId resolves to a handler, and every handler has a route."""

from __future__ import annotations

import inspect
from pathlib import Path

import registry_generated

from registry_impl.api.app import operation_ids
from registry_impl.api.handlers import handler_for, handlers


def test_every_operation_id_resolves_to_a_coroutine() -> None:
    for operation_id in operation_ids():
        assert inspect.iscoroutinefunction(handler_for(operation_id)), operation_id


def test_no_handler_lacks_a_route() -> None:
    assert set(handlers()) == set(operation_ids())


def test_the_published_document_names_no_implementation_module() -> None:
    document = Path(registry_generated.__file__).resolve().parent / "openapi.yaml"
    assert "registry_impl" not in document.read_text(encoding="utf-8")
    assert all("." not in operation_id for operation_id in operation_ids())


def test_streaming_handlers_declare_no_body_parameter() -> None:
    """A declared body parameter makes the framework buffer the whole upload (STACK-NOTES)."""
    for operation_id in operation_ids():
        signature = inspect.signature(handler_for(operation_id))
        assert "body" not in signature.parameters and not any(
            p.kind is p.VAR_KEYWORD for p in signature.parameters.values()
        ), operation_id
