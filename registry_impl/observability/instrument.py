"""What a worker adds around the application from the configuration: health gate, metrics, request ids."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

from registry_impl.config import Config, ConfigError
from registry_impl.observability.health import HealthChecks, HealthGate, checks_from_config

if TYPE_CHECKING:  # the debug listener (http.server) is imported only when http.debug.addr is set
    from registry_impl.observability.debug import DebugServer

__all__ = ["health_checks", "instrument_app", "metrics_enabled", "prepare_supervisor", "start_debug_listener"]


def metrics_enabled(config: Config) -> bool:
    debug = config.http.debug
    return bool(debug.addr and debug.prometheus.enabled)


def health_checks(config: Config, driver: Any) -> HealthChecks:
    storage = config.storage
    return checks_from_config(
        config.health, driver, storage.driver_name, writable=not storage.maintenance.readonly.enabled
    )


def instrument_app(
    app: ASGIApp, config: Config, state: Any, *, unavailable: Callable[[Any], ASGIApp]
) -> ASGIApp:
    """``app`` inside the health gate (when checks are configured), the metrics (when enabled) and the
    request spans (when ``OTEL_*`` variables ask); the storage driver, blob descriptor cache and access
    controller of ``state`` timed, counted and traced likewise."""
    registry = state.registry
    if metrics_enabled(config):
        from registry_impl.observability import metrics

        metrics.instrument_driver(registry.driver, config.storage.driver_name)
        metrics.instrument_cache(registry.blob_cache)
        app = metrics.RequestMetrics(app)
    from registry_impl.observability import tracing
    from registry_impl.observability.reporting import configure_reporting

    configure_reporting(config.extras.get("reporting") or {})
    if tracing.enabled():
        app = tracing.instrument(app, state)
    checks = health_checks(config, registry.driver)
    if checks.checks:
        app = HealthGate(app, checks, unavailable)
    return app


def prepare_supervisor(config: Config) -> None:
    """Before any worker starts: a fresh multiprocess directory for ``prometheus_client`` (unless the
    environment names one), so every worker's metrics are merged by the debug listener."""
    if not metrics_enabled(config):
        return
    from registry_impl.observability.debug import MULTIPROC_ENV

    if os.environ.get(MULTIPROC_ENV):
        return
    directory = tempfile.mkdtemp(prefix="registry-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    if "prometheus_client" in sys.modules:  # loaded already: metrics made from now on go to the directory
        from prometheus_client import values

        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    import atexit

    atexit.register(shutil.rmtree, directory, True)


def start_debug_listener(config: Config, driver: Any) -> DebugServer | None:
    """The debug listener on ``http.debug.addr``, when set."""
    debug = config.http.debug
    if not debug.addr:
        return None
    from registry_impl.config.model import split_host_port
    from registry_impl.observability.debug import DebugServer

    host, port = split_host_port(debug.addr)
    try:
        server = DebugServer(
            host,
            port,
            health_checks(config, driver),
            debug.prometheus.path if debug.prometheus.enabled else None,
            _notification_status(config, driver),
        )
    except OSError as exc:
        raise ConfigError("http.debug.addr", f"cannot listen on {debug.addr}: {exc.strerror}") from exc
    server.start()
    return server


def _notification_status(config: Config, driver: Any) -> Any:
    """``/debug/notifications``: every enabled endpoint's pending count, last success and last failure, as
    storage has them (None without notifications)."""
    endpoints = config.notifications.endpoints
    if not any(not e.get("disabled") for e in endpoints):
        return None
    from registry_impl.notifications import delivery_status

    return lambda: delivery_status(endpoints, driver)
