"""Build the application state from a Config, and run it on a production ASGI server."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry_impl import logs, server_options, startup
from registry_impl.auth import create as create_access
from registry_impl.config import RANDOM_SECRET_WARNING, Config, ConfigError, load_config
from registry_impl.memory import body_chunks_from_heap, limit_malloc_arenas, trim_while_running
from registry_impl.reload import Reloader, granian_hook, ignore_sighup, uvicorn_supervisor
from registry_impl.storage.driver import factory

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from registry_impl.api.context import AppState, GCSchedule, PurgeSchedule

# The supervising process (``serve``) imports only what it needs to read and check the configuration and
# run granian; each worker imports the application (measured: preloading it in the supervisor to share
# it with a forked worker cost more memory than it saved, see the README's memory section).

log = logging.getLogger("registry")
CONFIG_ENV = "REGISTRY_CONFIGURATION_PATH"
WORKERS_ENV = "PYDISTRIBUTION_WORKERS"  # not REGISTRY_*: those are configuration keys
CHECKED_ENV = "PYDISTRIBUTION_CONFIG_CHECKED"  # set by serve: its workers do not repeat its warnings


def worker_count() -> int:
    """How many worker processes share this storage (``serve`` tells its workers)."""
    value = os.environ.get(WORKERS_ENV, "1")
    return int(value) if value.isdigit() else 1


def build_state(config: Config) -> AppState:
    """Storage, policy and HTTP settings from the configuration (one instance per process)."""
    from registry_spec.protocol.descriptors import Platform

    from registry_impl import schema1
    from registry_impl.api.context import AppState
    from registry_impl.manifests import SparseRules, URLRules
    from registry_impl.storage.cache import factory as cache_factory
    from registry_impl.storage.registry import Policy, Registry

    storage = config.storage
    driver = factory.create(storage.driver_name, dict(storage.driver_params))
    validation = config.validation
    policy = Policy(
        delete_enabled=storage.delete.enabled,
        read_only=storage.maintenance.readonly.enabled,
        manifest_urls=URLRules.from_lists(validation.allow, validation.deny)
        if validation.enabled
        else URLRules(),
        sparse=SparseRules(
            validation.index_platforms,
            tuple(Platform(os, arch) for os, arch in validation.platform_list),
            validation.layers_required,
        ),
        schema1=schema1.policy_from((config.extras.get("compatibility") or {}).get("schema1") or {}),
    )
    secret = config.http.secret or config.http.effective_secret
    state = AppState(
        registry=Registry(
            driver, policy, cache_factory.create(storage.cache, config.redis, workers=worker_count())
        ),
        secret=secret.encode(),
        max_tags=config.tags.maxtags,
        max_catalog=config.catalog.maxentries,
        relative_urls=config.http.relativeurls,
        host=config.http.host,
        extra_headers={k: tuple(v) for k, v in config.http.headers.items()},
        redirect_blobs=not storage.redirect.disable,
        purge=_purge_schedule(config),
        gc=_gc_schedule(config),
        access=create_access(config.auth_scheme, config.auth_params),
        proxy=_proxy(config),
    )
    state.notifier = _notifier(config, state)
    return state


def _proxy(config: Config) -> Any:
    """``proxy``: None (the pull-through cache and its HTTP client never loaded) unless an upstream is set."""
    if not config.proxy.enabled:
        return None
    from registry_impl.proxy import PullThroughCache

    return PullThroughCache.from_config(config.proxy)


def _notifier(config: Config, state: AppState) -> Any:
    """``notifications``: None (no cost on any request) unless an endpoint is enabled."""
    endpoints = config.notifications.endpoints
    if not any(not e.get("disabled") for e in endpoints):
        return None
    # Imported here: the web framework and prometheus_client load in workers only (after the supervisor
    # has set up multiprocess metrics).
    from registry_impl import notifications
    from registry_impl.api.eventsource import request_record

    port = config.http.addr.rpartition(":")[2] if config.http.net != "unix" else ""
    return notifications.create(
        endpoints,
        config.notifications.events.includereferences,
        state.registry.driver,
        state.offload,
        request_record,
        source_addr=f"{socket.gethostname()}:{port}" if port else socket.gethostname(),
    )


def _purge_schedule(config: Config) -> PurgeSchedule | None:
    purging = config.storage.maintenance.uploadpurging
    if not purging.enabled or config.storage.maintenance.readonly.enabled:
        return None
    from registry_impl.api.context import PurgeSchedule

    return PurgeSchedule(age=purging.age, interval=purging.interval, dry_run=purging.dryrun)


def _gc_schedule(config: Config) -> GCSchedule | None:
    gc = config.storage.maintenance.gc
    if not gc.enabled or config.storage.maintenance.readonly.enabled:
        return None
    from registry_impl.api.context import GCSchedule

    return GCSchedule(gc.interval, gc.graceperiod, delete_untagged=gc.deleteuntagged, dry_run=gc.dryrun)


def app_from_environment() -> ASGIApp:
    """ASGI factory for server workers: the config path comes from ``REGISTRY_CONFIGURATION_PATH``."""
    startup.collector_paused()
    try:
        return _build_app()
    finally:
        # frozen only in a server's worker, whose app lives as long as it does (tests build many apps)
        startup.resume_collector(freeze=bool(os.environ.get(CHECKED_ENV)))


def _build_app() -> ASGIApp:
    config_log = logging.getLogger("registry.config")
    config_log.disabled = bool(os.environ.get(CHECKED_ENV))  # serve printed them once already
    try:
        config = load_config(os.environ.get(CONFIG_ENV) or None)
    finally:
        config_log.disabled = False
    logs.configure(config.log)
    # Imported here: the supervising process never loads the application, only the workers do; and a
    # worker imports the web framework in the background, once it serves the fast path (api.stack).
    from registry_impl.api.errors import unavailable
    from registry_impl.api.limits import RequestLimits
    from registry_impl.api.prefix import PathPrefix
    from registry_impl.api.stack import InBackground, compose
    from registry_impl.observability.instrument import instrument_app
    from registry_impl.observability.requestids import RequestIds

    state = build_state(config)
    trim_while_running()
    registry_app = compose(state, InBackground(partial(_build_framework, state)))
    if config.ui.enabled:  # the web UI under /ui, reading the registry app it wraps, built on first use
        from registry_impl.ui.mount import with_ui_on_demand

        registry_app = with_ui_on_demand(
            registry_app,
            delete_enabled=config.storage.delete.enabled,
            root_path=config.http.path_prefix,
            state=state,
        )
    app = instrument_app(registry_app, config, state, unavailable=unavailable)
    if config.http.path_prefix:
        app = PathPrefix(app, config.http.path_prefix)
    return RequestIds(logs.AccessLog(RequestLimits(app, config.http.limits)))


def _build_framework(state: AppState) -> ASGIApp:
    """The framework app (connexion), in a worker's background thread (see ``api.stack``)."""
    startup.collector_paused()
    built = False
    try:
        from registry_impl.api.app import create_framework

        framework = create_framework(state, check_spec=False)
        built = True
        return framework
    finally:
        startup.resume_collector(freeze=built)  # what it built, like the rest of the app, out of reach


class ListenError(RuntimeError):
    """The configured address cannot be listened on."""


def check_listen(host: str, port: int) -> None:
    """Fail with one clear line, before any worker starts, when ``http.addr`` cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ListenError(f"http.addr: cannot listen on {host}:{port}: {exc.strerror}") from exc


def check_storage(config: Config) -> None:
    """Build the storage driver once, so a bad ``storage.<driver>`` value stops startup naming the key."""
    storage = config.storage
    try:
        factory.create(storage.driver_name, dict(storage.driver_params))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"storage.{storage.driver_name}", str(exc)) from exc


def check_support(config: Config) -> None:
    """One warning line per warned key the configuration sets; refuse to start, one line per refused key."""
    for finding in config.warned:
        log.warning("%s", finding.line)
    if config.refused:
        raise ConfigError("", "\n".join(finding.line for finding in config.refused))


def workers_for(config: Config, requested: int | None) -> int:
    """One worker by default (measured: the best balance of throughput and memory on two cores, see the
    README's figures); more with ``--workers`` — upload hash states live in storage, so any worker
    continues any upload."""
    if config.storage.driver_name == "inmemory":
        return 1  # each worker would have a store of its own
    return requested or 1


def serve(config_path: str | None, *, server: str = "granian", workers: int | None = None) -> None:
    """Run the registry in the foreground until interrupted; without ``config_path``, the file
    ``REGISTRY_CONFIGURATION_PATH`` names (as distribution), else the embedded default."""
    limit_malloc_arenas()  # first: the workers fork from this process and keep its malloc settings
    body_chunks_from_heap()
    config_path = config_path or os.environ.get(CONFIG_ENV) or None
    config = load_config(config_path)
    logs.configure(config.log)
    check_support(config)
    os.environ[CHECKED_ENV] = "1"
    if config_path:
        os.environ[CONFIG_ENV] = os.path.abspath(config_path)  # the workers read the same file
    generated_secret = None
    if config.http.secret_generated:
        log.warning(RANDOM_SECRET_WARNING)
        # Every worker must sign upload Locations with the same secret.
        generated_secret = os.environ["REGISTRY_HTTP_SECRET"] = config.http.effective_secret
    target = listen_target(config)
    if not target.uds:
        check_listen(target.host, target.port)
    from registry_impl.observability import instrument as observability

    observability.prepare_supervisor(config)  # before prometheus_client loads here or in a worker
    startup_checks(config, announce=False)  # fails before any worker starts
    storage = config.storage
    observability.start_debug_listener(
        config, factory.create(storage.driver_name, dict(storage.driver_params))
    )
    count = workers_for(config, workers)
    reloader = Reloader(
        config_path,
        config,
        startup_checks,
        lambda new: workers_for(new, workers),
        generated_secret,
    )
    os.environ[WORKERS_ENV] = str(count)
    startup.resume_collector()  # the workers start with it on, and pause it for their own imports
    log.warning(
        "registry listening on %s (%s, %d worker(s), storage %s)",
        target,
        server,
        count,
        config.storage.driver_name,
    )
    if server == "uvicorn":
        _serve_uvicorn(config, target, count, reloader)
        return
    from granian.constants import Interfaces
    from granian.server import Server

    runner = Server(
        "registry_impl.server:app_from_environment",
        interface=Interfaces.ASGI,
        workers=count,
        factory=True,
        log_access=False,
        log_dictconfig=logs.server_log_config(config.log),
        **target.granian_options(),
        **server_options.granian_options(config.http),
        **_tls_granian(config),
    )
    granian_hook(runner, reloader)
    runner.serve()


def startup_checks(config: Config, *, announce: bool = True) -> None:
    """What a configuration must pass before workers run it (at startup and on SIGHUP): no refused key
    (``announce``: print the warned ones), usable storage and auth settings."""
    if announce:
        check_support(config)
    create_access(config.auth_scheme, config.auth_params)
    check_storage(config)


def _serve_uvicorn(config: Config, target: ListenTarget, count: int, reloader: Reloader) -> None:
    """``uvicorn.run``, except that with several workers its supervisor asks ``reloader`` on SIGHUP."""
    import uvicorn

    options: dict[str, Any] = {
        "factory": True,
        "workers": count,
        "lifespan": "on",
        "log_level": config.log.level.replace("warn", "warning"),
        "access_log": False,
        "log_config": logs.server_log_config(config.log),
        **target.uvicorn_options(),
        **server_options.uvicorn_options(config.http),
        **_tls_uvicorn(config),
    }
    app = "registry_impl.server:app_from_environment"
    if count == 1:
        ignore_sighup("uvicorn with one worker serves in this process and cannot replace itself")
        uvicorn.run(app, **options)
        return
    settings = uvicorn.Config(app, **options)
    try:
        uvicorn_supervisor(reloader)(settings, sockets=[settings.bind_socket()]).run()
    except KeyboardInterrupt:
        pass
    finally:
        if settings.uds and os.path.exists(settings.uds):
            os.remove(settings.uds)


@dataclass(frozen=True)
class ListenTarget:
    """Where the server listens: ``host``/``port`` for tcp (``::`` is every address of both families),
    or the unix socket path ``uds``."""

    host: str = ""
    port: int = 0
    uds: str = ""
    dual_stack: bool = False

    def __str__(self) -> str:
        if self.uds:
            return f"unix:{self.uds}"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def granian_options(self) -> dict[str, Any]:
        if self.uds:
            return {"uds": Path(self.uds)}
        return {"address": self.host, "port": self.port}  # granian listens on both families at "::"

    def uvicorn_options(self) -> dict[str, Any]:
        if self.uds:
            return {"uds": self.uds}
        if not self.dual_stack:
            return {"host": self.host, "port": self.port}
        # asyncio sets IPV6_V6ONLY on the sockets it binds: bind one for both families and hand it over.
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", self.port))
        sock.set_inheritable(True)
        _KEEP.append(sock)
        return {"fd": sock.fileno()}


_KEEP: list[socket.socket] = []  # sockets handed to the server by descriptor stay open


def listen_target(config: Config) -> ListenTarget:
    """``http.addr`` and ``http.net``: an empty host (``:5000``) is every address, IPv4 and IPv6 for
    ``tcp`` (where the machine has IPv6), IPv4 only for ``tcp4``, IPv6 only for ``tcp6``."""
    http = config.http
    if http.net == "unix":
        return ListenTarget(uds=http.addr)
    host, port = http.host_port()
    if host:
        return ListenTarget(host, port)
    if http.net == "tcp4" or not _has_ipv6():
        return ListenTarget("0.0.0.0", port)
    return ListenTarget("::", port, dual_stack=http.net == "tcp")


def _has_ipv6() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _tls_uvicorn(config: Config) -> dict[str, Any]:
    from registry_impl.tls import uvicorn_options

    return uvicorn_options(config.http.tls)


def _tls_granian(config: Config) -> dict[str, Any]:
    from registry_impl.tls import granian_options

    return granian_options(config.http.tls)
