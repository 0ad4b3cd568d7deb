"""The typed configuration: one frozen dataclass per section, named and defaulted as distribution's keys.

Defaults are those distribution applies to a configuration file that leaves a key out; the embedded
default configuration (``load_config(None)``) is a file like any other (see ``load.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .support import Finding

__all__ = [
    "AccessLogConfig",
    "CacheConfig",
    "CatalogConfig",
    "Config",
    "DebugConfig",
    "DeleteConfig",
    "EventsConfig",
    "FilesystemConfig",
    "H2CConfig",
    "HTTP2Config",
    "HTTPConfig",
    "HTTPLimitsConfig",
    "LogConfig",
    "MaintenanceConfig",
    "NotificationsConfig",
    "PrometheusConfig",
    "ProxyConfig",
    "ReadOnlyConfig",
    "RedirectConfig",
    "RedisConfig",
    "RedisPoolConfig",
    "RedisTLSConfig",
    "StorageConfig",
    "TLSConfig",
    "TagsConfig",
    "UploadPurgingConfig",
    "ValidationConfig",
    "split_host_port",
]

_ZERO = timedelta(0)


def _dict() -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class AccessLogConfig:
    disabled: bool = False


@dataclass(frozen=True)
class LogConfig:
    """``log``: ``level`` is one of error, warn, info, debug; ``formatter`` one of text, json, logstash."""

    level: str = "info"
    formatter: str = "text"
    fields: Mapping[str, Any] = field(default_factory=_dict)
    accesslog: AccessLogConfig = field(default_factory=AccessLogConfig)
    hooks: tuple[Mapping[str, Any], ...] = ()
    reportcaller: bool = False


@dataclass(frozen=True)
class FilesystemConfig:
    """``storage.filesystem``; ``maxthreads`` below 25 is raised to 25, as distribution does. ``fsync`` is
    ours: ``True`` (the default), ``False`` or ``"commit"`` (see the filesystem driver)."""

    rootdirectory: str = "/var/lib/registry"
    maxthreads: int = 100
    fsync: bool | str = True


@dataclass(frozen=True)
class DeleteConfig:
    enabled: bool = False


@dataclass(frozen=True)
class RedirectConfig:
    disable: bool = False


@dataclass(frozen=True)
class CacheConfig:
    """``storage.cache``: ``blobdescriptor`` is ``inmemory``, ``redis`` or ``""`` (no cache)."""

    blobdescriptor: str = ""
    blobdescriptorsize: int = 10000


@dataclass(frozen=True)
class UploadPurgingConfig:
    enabled: bool = True
    age: timedelta = timedelta(hours=168)
    interval: timedelta = timedelta(hours=24)
    dryrun: bool = False


@dataclass(frozen=True)
class OnlineGCConfig:
    """``storage.maintenance.gc`` (this project's key): online garbage collection on a schedule."""

    enabled: bool = False
    interval: timedelta = timedelta(hours=24)
    graceperiod: timedelta = timedelta(hours=1)
    deleteuntagged: bool = False
    dryrun: bool = False


@dataclass(frozen=True)
class ReadOnlyConfig:
    enabled: bool = False


@dataclass(frozen=True)
class MaintenanceConfig:
    uploadpurging: UploadPurgingConfig = field(default_factory=UploadPurgingConfig)
    readonly: ReadOnlyConfig = field(default_factory=ReadOnlyConfig)
    gc: OnlineGCConfig = field(default_factory=OnlineGCConfig)


@dataclass(frozen=True)
class StorageConfig:
    """``storage``: the one driver (its name is its key) and the non-driver subsections.

    ``driver_params`` holds the driver's parameters as plain values (for ``filesystem`` with its
    defaults filled in); ``filesystem`` is the typed view when that driver is selected. An out-of-tree
    driver is just a name and its parameters. ``tag`` is distribution 3's ``storage.tag``, kept as given.
    """

    driver_name: str
    driver_params: Mapping[str, Any] = field(default_factory=_dict)
    filesystem: FilesystemConfig | None = None
    delete: DeleteConfig = field(default_factory=DeleteConfig)
    redirect: RedirectConfig = field(default_factory=RedirectConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    maintenance: MaintenanceConfig = field(default_factory=MaintenanceConfig)
    tag: Mapping[str, Any] = field(default_factory=_dict)

    @property
    def readonly(self) -> bool:
        return self.maintenance.readonly.enabled


@dataclass(frozen=True)
class TLSConfig:
    """``http.tls``; ``minimumtls`` is one of tls1.0, tls1.1, tls1.2 (the default), tls1.3."""

    certificate: str = ""
    key: str = ""
    clientcas: tuple[str, ...] = ()
    clientauth: str = ""
    minimumtls: str = "tls1.2"
    ciphersuites: tuple[str, ...] = ()
    letsencrypt: Mapping[str, Any] = field(default_factory=_dict)

    @property
    def enabled(self) -> bool:
        return bool(self.certificate)


@dataclass(frozen=True)
class PrometheusConfig:
    enabled: bool = False
    path: str = "/metrics"


@dataclass(frozen=True)
class DebugConfig:
    """``http.debug``: the debug server is off while ``addr`` is empty."""

    addr: str = ""
    prometheus: PrometheusConfig = field(default_factory=PrometheusConfig)


@dataclass(frozen=True)
class HTTP2Config:
    disabled: bool = False


@dataclass(frozen=True)
class H2CConfig:
    """``http.h2c``: HTTP/2 over cleartext (prior knowledge or ``Upgrade: h2c``); off, as in distribution."""

    enabled: bool = False


@dataclass(frozen=True)
class HTTPLimitsConfig:
    """``http.limits`` (this project's keys: distribution leaves these to Go's ``net/http``).

    Sizes are bytes, counts are per request, ``maxconnections`` is per worker process. ``headertimeout``
    bounds the wait for a whole request head (from the connection's start or the previous answer),
    ``idletimeout`` a keep-alive connection with no request in flight, ``bodytimeout`` the wait for
    the next piece of a request body (not the whole body: uploads may take hours).
    """

    maxheaderbytes: int = 65536
    maxheaders: int = 100
    maxrequestline: int = 8192
    maxconnections: int = 1000
    headertimeout: timedelta = timedelta(seconds=10)
    idletimeout: timedelta = timedelta(seconds=15)
    bodytimeout: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class HTTPConfig:
    """``http``. ``addr`` is ``HOST:PORT`` for tcp, a socket path for unix (``net``).

    ``effective_secret`` is ``secret``, or when that is empty a random secret generated at load time;
    then ``secret_generated`` is true and the server should log ``RANDOM_SECRET_WARNING``, since
    upload state signed by one replica will not verify on another.
    """

    addr: str = ":5000"
    net: str = "tcp"
    host: str = ""
    prefix: str = ""
    secret: str = ""
    relativeurls: bool = False
    draintimeout: timedelta = _ZERO
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tls: TLSConfig = field(default_factory=TLSConfig)
    debug: DebugConfig = field(default_factory=DebugConfig)
    http2: HTTP2Config = field(default_factory=HTTP2Config)
    h2c: H2CConfig = field(default_factory=H2CConfig)
    limits: HTTPLimitsConfig = field(default_factory=HTTPLimitsConfig)
    effective_secret: str = field(default="", compare=False, repr=False)

    @property
    def secret_generated(self) -> bool:
        return not self.secret

    @property
    def path_prefix(self) -> str:
        """``prefix`` as ``/a/b`` (no trailing slash), or ``""`` at the root."""
        stripped = self.prefix.strip("/")
        return f"/{stripped}" if stripped else ""

    def host_port(self) -> tuple[str, int]:
        """``addr`` split for a tcp listener: ``":5000"`` is ``("", 5000)``, all interfaces."""
        return split_host_port(self.addr)


@dataclass(frozen=True)
class RedisPoolConfig:
    maxidle: int = 0
    maxactive: int = 0
    idletimeout: timedelta = _ZERO


@dataclass(frozen=True)
class RedisTLSConfig:
    """``redis.tls``: ``enabled`` (distribution 2.8), or a client ``certificate``/``key`` and the
    ``clientcas`` the server is verified against (distribution 3: TLS is on when any is set)."""

    enabled: bool = False
    certificate: str = ""
    key: str = ""
    clientcas: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedisConfig:
    """``redis``: distribution 2.8's keys and distribution 3's (``addrs`` with one address becomes
    ``addr``; ``poolsize``/``maxactiveconns`` become ``pool.maxactive``); unused while ``addr`` is empty."""

    addr: str = ""
    username: str = ""
    password: str = ""
    db: int = 0
    tls: RedisTLSConfig = field(default_factory=RedisTLSConfig)
    dialtimeout: timedelta = _ZERO
    readtimeout: timedelta = _ZERO
    writetimeout: timedelta = _ZERO
    pool: RedisPoolConfig = field(default_factory=RedisPoolConfig)

    @property
    def enabled(self) -> bool:
        return bool(self.addr)


@dataclass(frozen=True)
class EventsConfig:
    includereferences: bool = False


@dataclass(frozen=True)
class NotificationsConfig:
    """``notifications``: endpoints as decoded dicts (durations as timedelta, headers as lists)."""

    endpoints: tuple[Mapping[str, Any], ...] = ()
    events: EventsConfig = field(default_factory=EventsConfig)


@dataclass(frozen=True)
class UpstreamConfig:
    """One upstream of ``proxy.upstreams`` (this project's extension): repositories named ``<prefix>/...``
    are pulled through from ``remoteurl`` (under the name without the prefix); an empty prefix is every
    repository no longer prefix claims (distribution's single ``proxy.remoteurl``)."""

    prefix: str
    remoteurl: str
    username: str = ""
    password: str = ""
    ttl: timedelta = timedelta(hours=168)


@dataclass(frozen=True)
class ProxyConfig:
    """``proxy``: a pull-through cache when ``remoteurl`` is set; ``ttl`` 0 means cached content never expires.

    ``upstreams`` (this project's extension) adds upstreams chosen by repository prefix; repositories under
    none of them (and no ``remoteurl``) stay local and writable."""

    remoteurl: str = ""
    username: str = ""
    password: str = ""
    ttl: timedelta = timedelta(hours=168)
    upstreams: tuple[UpstreamConfig, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.remoteurl or self.upstreams)

    def all_upstreams(self) -> tuple[UpstreamConfig, ...]:
        """Every upstream, the top-level ``remoteurl`` as the one with the empty prefix."""
        top = (UpstreamConfig("", self.remoteurl, self.username, self.password, self.ttl),)
        return self.upstreams + (top if self.remoteurl else ())


@dataclass(frozen=True)
class CatalogConfig:
    """``catalog.maxentries``: the most repositories one catalog page returns (0 or absent: 1000)."""

    maxentries: int = 1000


@dataclass(frozen=True)
class UIConfig:
    """``ui.enabled`` (this project's section): the web UI and the live API documentation under ``/ui``; on unless
    set to false."""

    enabled: bool = True


@dataclass(frozen=True)
class TagsConfig:
    """``tags.maxtags`` (this project's key, not distribution's): the most tags one tag-list page returns.

    0 or absent (the default): no maximum. A tag list without ``n`` then names every tag, as distribution
    answers, and ``n`` pages only when the client asks. When set, a page longer than ``maxtags`` (asked
    for with a larger ``n``, or without ``n``) is cut there with a ``Link`` to the next one.
    """

    maxtags: int = 0


@dataclass(frozen=True)
class ValidationConfig:
    """``validation``: while ``enabled`` (``disabled`` inverted; on by default), a pushed manifest's layer
    URLs must match one of ``allow`` (when any is given) and none of ``deny`` (Go regular expressions,
    unanchored). Sparse manifests: ``index_platforms`` (distribution 3's ``manifests.indexes.platforms``:
    ``all``, ``none`` or ``list`` of ``platform_list``, as ``(os, architecture)``) names the children of an
    index that must exist, ``layers_required`` (``manifests.layers.required``: ``all`` or ``none``) the
    layers of an image."""

    enabled: bool = True
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    indexes: Mapping[str, Any] = field(default_factory=_dict)
    index_platforms: str = "all"
    platform_list: tuple[tuple[str, str], ...] = ()
    layers_required: str = "all"


@dataclass(frozen=True)
class Config:
    """The whole configuration.

    ``auth_scheme`` is the one ``auth`` key (silly, htpasswd, token, or an out-of-tree name) or None,
    ``auth_params`` its parameters. ``middleware`` and ``health`` are kept as decoded
    dicts; ``extras`` holds the other sections distribution knows and this registry does not use
    (reporting, compatibility, policy).
    """

    storage: StorageConfig
    version: str = "0.1"
    log: LogConfig = field(default_factory=LogConfig)
    http: HTTPConfig = field(default_factory=HTTPConfig)
    auth_scheme: str | None = None
    auth_params: Mapping[str, Any] = field(default_factory=_dict)
    redis: RedisConfig = field(default_factory=RedisConfig)
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    tags: TagsConfig = field(default_factory=TagsConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    middleware: Mapping[str, Any] = field(default_factory=_dict)
    health: Mapping[str, Any] = field(default_factory=_dict)
    extras: Mapping[str, Any] = field(default_factory=_dict)
    findings: tuple[Finding, ...] = field(default=(), compare=False)
    """The refused and warned keys this configuration sets (see ``support.py``)."""

    @property
    def refused(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.state == "refused")

    @property
    def warned(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.state == "warned")


def split_host_port(addr: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` as Go's ``net.SplitHostPort`` does, with a numeric port; raise ``ValueError``.

    ``[::1]:5000`` gives ``("::1", 5000)``; an empty host (``:5000``) means every interface and is
    returned as ``""`` for the server to decide how to bind.
    """
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0 or addr[end + 1 : end + 2] != ":":
            raise ValueError(f"invalid address {addr!r}")
        host, port = addr[1:end], addr[end + 2 :]
    else:
        host, sep, port = addr.rpartition(":")
        if not sep or ":" in host or "[" in host or "]" in host:
            raise ValueError(f"invalid address {addr!r}")
    if not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"invalid address {addr!r}: bad port {port!r}")
    return host, int(port)
