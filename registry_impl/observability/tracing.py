"""OpenTelemetry traces, on only when the standard ``OTEL_*`` environment variables ask for them.

``OTEL_TRACES_EXPORTER`` (``otlp`` or ``console``; ``none`` is off) or an OTLP endpoint
(``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns tracing on: OTLP goes
over HTTP/protobuf, configured by the SDK from the usual variables (headers, timeout, ``OTEL_BSP_*``,
``OTEL_SERVICE_NAME``, default ``registry``). Each worker then has a request span per request
(``opentelemetry-instrumentation-asgi``: the trace context of incoming ``traceparent`` headers is
continued; the span is named by the descriptor's operationId, never by a repository), a span per
storage driver call (``storage.<method>``) and one per authorization (``auth.authorize``). Without
those variables nothing is imported and nothing is wrapped. The SDK is the optional ``tracing`` extra.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import ASGIApp

__all__ = ["enabled", "instrument"]

DRIVER_ACTIONS = ("get_content", "put_content", "reader", "writer", "stat", "list", "move", "delete")


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return bool(exporter or endpoint)


def _provider() -> Any:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "registry"})
    provider = TracerProvider(resource=resource)
    exporters: list[SpanExporter] = []
    for name in (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(","):
        name = name.strip().lower()
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: {name!r} is not supported here (otlp, console, none)")
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _traced(tracer: Any, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        with tracer.start_as_current_span(name):
            return fn(*args, **kwargs)

    return traced


def _traced_async(tracer: Any, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        with tracer.start_as_current_span(name):
            return await fn(*args, **kwargs)

    return traced


def instrument(app: ASGIApp, state: Any) -> ASGIApp:
    """``app`` with a request span per request; the driver and access controller of ``state`` traced."""
    from opentelemetry import trace
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    from registry_impl.observability.metrics import handler_of

    provider = _provider()
    tracer = trace.get_tracer("registry_impl", tracer_provider=provider)
    driver = state.registry.driver
    for action in DRIVER_ACTIONS:
        method = getattr(driver, action, None)
        if method is not None:
            setattr(driver, action, _traced(tracer, f"storage.{action}", method))
    if state.access is not None:
        state.access.authorized = _traced_async(tracer, "auth.authorize", state.access.authorized)

    def span_details(scope: Any) -> tuple[str, dict[str, Any]]:
        handler = handler_of(scope) if scope.get("type") == "http" else scope.get("type", "")
        return f"{scope.get('method', '')} {handler}".strip(), {"registry.handler": handler}

    return OpenTelemetryMiddleware(app, default_span_details=span_details, tracer_provider=provider)
