"""The sections besides storage, built from the decoded tree and validated: log, http, auth, redis, the rest."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from registry_impl.errors import NameInvalid
from registry_impl.references import validate_name

from .duration import format_duration
from .errors import ConfigError
from .model import (
    AccessLogConfig,
    CatalogConfig,
    DebugConfig,
    EventsConfig,
    H2CConfig,
    HTTP2Config,
    HTTPConfig,
    HTTPLimitsConfig,
    LogConfig,
    NotificationsConfig,
    PrometheusConfig,
    ProxyConfig,
    RedisConfig,
    RedisPoolConfig,
    RedisTLSConfig,
    TagsConfig,
    TLSConfig,
    UIConfig,
    UpstreamConfig,
    ValidationConfig,
    split_host_port,
)
from .params import get_bool, get_str, warn_unknown_keys

__all__ = [
    "CIPHER_SUITES",
    "RANDOM_SECRET_WARNING",
    "build_auth",
    "build_catalog",
    "build_http",
    "build_log",
    "build_notifications",
    "build_proxy",
    "build_redis",
    "build_tags",
    "build_ui",
    "build_validation",
    "generate_http_secret",
]

RANDOM_SECRET_WARNING = (
    "No HTTP secret provided - generated random secret. This may cause problems with uploads if multiple "
    "registries are behind a load-balancer. To provide a shared secret, fill in http.secret in the "
    "configuration file or set the REGISTRY_HTTP_SECRET environment variable."
)
LOG_LEVELS = ("error", "warn", "info", "debug")
LOG_FORMATTERS = ("text", "json", "logstash")
NETWORKS = ("tcp", "tcp4", "tcp6", "unix")
TLS_VERSIONS = ("tls1.0", "tls1.1", "tls1.2", "tls1.3")
CLIENT_AUTH = (
    "",
    "request-client-cert",
    "require-any-client-cert",
    "verify-client-cert-if-given",
    "require-and-verify-client-cert",
)
# distribution's http.tls.ciphersuites names (Go's) → OpenSSL's; TLS 1.3 suites ("") are always on, as in Go.
CIPHER_SUITES = {
    "TLS_RSA_WITH_RC4_128_SHA": "RC4-SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA": "ECDHE-ECDSA-RC4-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA": "ECDHE-RSA-RC4-SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_AES_128_GCM_SHA256": "",
    "TLS_AES_256_GCM_SHA384": "",
    "TLS_CHACHA20_POLY1305_SHA256": "",
}
# Parameters each built-in access controller cannot start without; token also needs one of its key sources.
_AUTH_REQUIRED = {
    "silly": ("realm", "service"),
    "htpasswd": ("realm", "path"),
    "token": ("realm", "service", "issuer"),
}
# Every parameter each built-in access controller reads (registry_impl.auth); others are warned about.
_AUTH_KNOWN = {
    "silly": frozenset({"realm", "service"}),
    "htpasswd": frozenset({"realm", "path"}),
    "token": frozenset(
        {
            "realm",
            "service",
            "issuer",
            "rootcertbundle",
            "jwks",
            "autoredirect",
            "autoredirectpath",
            "signingalgorithms",
        }
    ),
}
_DEFAULT_PAGE = 1000


def generate_http_secret() -> str:
    """A random secret, as distribution generates when ``http.secret`` is empty (32 random bytes)."""
    return secrets.token_urlsafe(32)


def build_log(log: Mapping[str, Any], legacy_level: str) -> LogConfig:
    """``log``; the deprecated top-level ``loglevel`` applies when ``log.level`` is empty."""
    key = "log.level" if log.get("level") or not legacy_level else "loglevel"
    level = (log.get("level") or legacy_level or "info").lower()
    if level not in LOG_LEVELS:
        raise ConfigError(key, f"invalid level {level!r}, must be one of {', '.join(LOG_LEVELS)}")
    formatter = log.get("formatter") or "text"
    if formatter not in LOG_FORMATTERS:
        raise ConfigError(
            "log.formatter",
            f"unsupported formatter {formatter!r}, must be one of {', '.join(LOG_FORMATTERS)}",
        )
    return LogConfig(
        level=level,
        formatter=formatter,
        fields=log.get("fields", {}),
        accesslog=AccessLogConfig(log.get("accesslog", {}).get("disabled", False)),
        hooks=tuple(log.get("hooks", ())),
        reportcaller=log.get("reportcaller", False),
    )


def build_http(http: Mapping[str, Any]) -> HTTPConfig:
    net = http.get("net") or "tcp"
    if net not in NETWORKS:
        raise ConfigError("http.net", f"unknown network {net!r}, must be one of {', '.join(NETWORKS)}")
    addr = http.get("addr") or ""
    if net == "unix":
        if not addr:
            raise ConfigError("http.addr", "a socket path is required when http.net is unix")
    else:
        addr = addr or HTTPConfig.addr
        _check_addr(addr, "http.addr")
    host = http.get("host", "")
    if host:
        parts = urlsplit(host)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError("http.host", f"invalid URL {host!r}, expected http(s)://host[:port]")
    prefix = http.get("prefix", "")
    if prefix and not prefix.startswith("/"):
        raise ConfigError("http.prefix", f"must start with '/', got {prefix!r}")
    debug = http.get("debug", {})
    if debug.get("addr"):
        _check_addr(debug["addr"], "http.debug.addr")
    prometheus = debug.get("prometheus", {})
    secret = http.get("secret", "")
    return HTTPConfig(
        addr=addr,
        net=net,
        host=host,
        prefix=prefix,
        secret=secret,
        relativeurls=http.get("relativeurls", False),
        draintimeout=_non_negative(http.get("draintimeout", timedelta(0)), "http.draintimeout"),
        headers={name: tuple(values) for name, values in http.get("headers", {}).items()},
        tls=_tls(http.get("tls", {})),
        debug=DebugConfig(
            debug.get("addr", ""),
            PrometheusConfig(
                prometheus.get("enabled", False), prometheus.get("path") or PrometheusConfig.path
            ),
        ),
        http2=HTTP2Config(http.get("http2", {}).get("disabled", False)),
        h2c=H2CConfig(http.get("h2c", {}).get("enabled", False)),
        limits=_limits(http.get("limits", {})),
        effective_secret=secret or generate_http_secret(),
    )


def _check_addr(addr: str, key: str) -> None:
    try:
        split_host_port(addr)
    except ValueError as exc:
        raise ConfigError(key, str(exc)) from None


def _non_negative(value: timedelta, key: str) -> timedelta:
    if value < timedelta(0):
        raise ConfigError(key, "must not be negative")
    return value


_LIMIT_SIZES = ("maxheaderbytes", "maxheaders", "maxrequestline", "maxconnections")
_LIMIT_TIMEOUTS = ("headertimeout", "idletimeout", "bodytimeout")
_SHORTEST_TIMEOUT = timedelta(milliseconds=1)


def _limits(limits: Mapping[str, Any]) -> HTTPLimitsConfig:
    """``http.limits``: every size a positive integer, every timeout at least a millisecond."""
    values: dict[str, Any] = {}
    for name in _LIMIT_SIZES:
        value = limits.get(name, getattr(HTTPLimitsConfig, name))
        if value <= 0:
            raise ConfigError(f"http.limits.{name}", f"must be a positive integer, got {value}")
        values[name] = value
    for name in _LIMIT_TIMEOUTS:
        value = limits.get(name, getattr(HTTPLimitsConfig, name))
        if value < _SHORTEST_TIMEOUT:
            raise ConfigError(
                f"http.limits.{name}",
                f"must be at least 1ms, got {format_duration(value)} (a bare number is nanoseconds: write 10s)",
            )
        values[name] = value
    return HTTPLimitsConfig(**values)


def _tls(tls: Mapping[str, Any]) -> TLSConfig:
    certificate, private_key = tls.get("certificate", ""), tls.get("key", "")
    if certificate and not private_key:
        raise ConfigError("http.tls.key", "required when http.tls.certificate is set")
    if private_key and not certificate:
        raise ConfigError("http.tls.certificate", "required when http.tls.key is set")
    minimum = tls.get("minimumtls") or TLSConfig.minimumtls
    if minimum not in TLS_VERSIONS:
        raise ConfigError(
            "http.tls.minimumtls",
            f"unknown TLS version {minimum!r}, must be one of {', '.join(TLS_VERSIONS)}",
        )
    suites = tuple(tls.get("ciphersuites", ()))
    for suite in suites:
        if suite not in CIPHER_SUITES:
            raise ConfigError("http.tls.ciphersuites", f"unknown cipher suite {suite!r}")
    clientauth = tls.get("clientauth", "")
    if clientauth not in CLIENT_AUTH:
        raise ConfigError("http.tls.clientauth", f"unknown client auth mode {clientauth!r}")
    return TLSConfig(
        certificate=certificate,
        key=private_key,
        clientcas=tuple(tls.get("clientcas", ())),
        clientauth=clientauth,
        minimumtls=minimum,
        ciphersuites=suites,
        letsencrypt=tls.get("letsencrypt", {}),
    )


def build_auth(auth: Mapping[str, Mapping[str, Any]]) -> tuple[str | None, dict[str, Any]]:
    """``(scheme, params)`` of the one configured access controller, ``(None, {})`` for none."""
    if not auth:
        return None, {}
    if len(auth) > 1:
        raise ConfigError(
            "auth", f"exactly one auth scheme may be configured, found {', '.join(sorted(auth))}"
        )
    scheme, params = next(iter(auth.items()))
    key = f"auth.{scheme}"
    if scheme in _AUTH_KNOWN:
        warn_unknown_keys(params, _AUTH_KNOWN[scheme], key)
    for name in _AUTH_REQUIRED.get(scheme, ()):
        if not get_str(params, name, key):
            raise ConfigError(f"{key}.{name}", f"required by the {scheme} access controller")
    if scheme == "token":
        if not (get_str(params, "rootcertbundle", key) or get_str(params, "jwks", key)):
            raise ConfigError(
                f"{key}.rootcertbundle", "required by the token access controller (or auth.token.jwks)"
            )
        get_bool(params, "autoredirect", key, False)
        algorithms = params.get("signingalgorithms")
        if algorithms is not None and not (
            isinstance(algorithms, list) and all(isinstance(a, str) for a in algorithms)
        ):
            raise ConfigError(f"{key}.signingalgorithms", f"expected a list of strings, got {algorithms!r}")
    return scheme, dict(params)


def build_redis(redis: Mapping[str, Any]) -> RedisConfig:
    """``redis``, distribution 2.8's keys or 3's; several ``addrs`` (a cluster) are refused by support.py."""
    pool = redis.get("pool", {})
    for name, value in (
        ("db", redis.get("db", 0)),
        ("pool.maxidle", pool.get("maxidle", 0)),
        ("pool.maxactive", pool.get("maxactive", 0)),
        ("poolsize", redis.get("poolsize", 0)),
        ("maxactiveconns", redis.get("maxactiveconns", 0)),
    ):
        if value < 0:
            raise ConfigError(f"redis.{name}", f"must not be negative, got {value}")
    addrs = redis.get("addrs", [])
    addr = redis.get("addr", "") or (addrs[0] if addrs else "")
    tls = redis.get("tls", {})
    if bool(tls.get("certificate")) != bool(tls.get("key")):
        raise ConfigError("redis.tls.key", "redis.tls.certificate and redis.tls.key go together")
    maxactive = pool.get("maxactive", 0) or redis.get("maxactiveconns", 0) or redis.get("poolsize", 0)
    return RedisConfig(
        addr=addr,
        username=redis.get("username", ""),
        password=redis.get("password", ""),
        db=redis.get("db", 0),
        tls=RedisTLSConfig(
            enabled=tls.get("enabled", False) or bool(tls.get("certificate") or tls.get("clientcas")),
            certificate=tls.get("certificate", ""),
            key=tls.get("key", ""),
            clientcas=tuple(tls.get("clientcas", ())),
        ),
        dialtimeout=_non_negative(redis.get("dialtimeout", timedelta(0)), "redis.dialtimeout"),
        readtimeout=_non_negative(redis.get("readtimeout", timedelta(0)), "redis.readtimeout"),
        writetimeout=_non_negative(redis.get("writetimeout", timedelta(0)), "redis.writetimeout"),
        pool=RedisPoolConfig(
            pool.get("maxidle", 0),
            maxactive,
            _non_negative(pool.get("idletimeout", timedelta(0)), "redis.pool.idletimeout"),
        ),
    )


def build_notifications(notifications: Mapping[str, Any]) -> NotificationsConfig:
    endpoints = notifications.get("endpoints", [])
    for i, endpoint in enumerate(endpoints):
        if not endpoint.get("disabled") and not endpoint.get("url"):
            raise ConfigError(f"notifications.endpoints[{i}].url", "required for an enabled endpoint")
    events = notifications.get("events", {})
    return NotificationsConfig(tuple(endpoints), EventsConfig(events.get("includereferences", False)))


def build_proxy(proxy: Mapping[str, Any]) -> ProxyConfig:
    """``proxy``; an absent ``ttl`` is 168h, an explicit 0 never expires (distribution's pointer semantics).

    ``upstreams`` (this project's extension): each names a ``prefix`` (whole name components, unique) and
    its own ``remoteurl``, credentials and ``ttl``."""
    remoteurl = proxy.get("remoteurl", "")
    if remoteurl:
        _check_remote_url(remoteurl, "proxy.remoteurl")
    upstreams: list[UpstreamConfig] = []
    for i, entry in enumerate(proxy.get("upstreams") or ()):
        key = f"proxy.upstreams[{i}]"
        prefix = str(entry.get("prefix", "")).strip("/")
        try:
            validate_name(prefix)
        except NameInvalid:
            raise ConfigError(f"{key}.prefix", f"want repository name components, got {prefix!r}") from None
        if any(u.prefix == prefix for u in upstreams):
            raise ConfigError(f"{key}.prefix", f"{prefix!r} is listed twice")
        _check_remote_url(entry.get("remoteurl", ""), f"{key}.remoteurl")
        upstreams.append(
            UpstreamConfig(
                prefix=prefix,
                remoteurl=entry["remoteurl"],
                username=entry.get("username", ""),
                password=entry.get("password", ""),
                ttl=_non_negative(entry.get("ttl", ProxyConfig.ttl), f"{key}.ttl"),
            )
        )
    return ProxyConfig(
        remoteurl=remoteurl,
        username=proxy.get("username", ""),
        password=proxy.get("password", ""),
        ttl=_non_negative(proxy.get("ttl", ProxyConfig.ttl), "proxy.ttl"),
        upstreams=tuple(upstreams),
    )


def _check_remote_url(url: str, key: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(key, f"invalid URL {url!r}")


def build_catalog(catalog: Mapping[str, Any]) -> CatalogConfig:
    return CatalogConfig(_page_size(catalog.get("maxentries", 0), "catalog.maxentries"))


def build_tags(tags: Mapping[str, Any]) -> TagsConfig:
    maxtags = tags.get("maxtags", 0)
    if maxtags < 0:
        raise ConfigError("tags.maxtags", f"must not be negative, got {maxtags}")
    return TagsConfig(maxtags)  # 0: no maximum (a list without n names every tag, as distribution's)


def build_ui(ui: Mapping[str, Any]) -> UIConfig:
    return UIConfig(enabled=bool(ui.get("enabled", True)))


def _page_size(value: int, key: str) -> int:
    if value < 0:
        raise ConfigError(key, f"must not be negative, got {value}")
    return value or _DEFAULT_PAGE


def build_validation(validation: Mapping[str, Any]) -> ValidationConfig:
    """``validation``; each URL rule list is checked to compile (as distribution joins it: ``a|b``)."""
    manifests = validation.get("manifests", {})
    urls = manifests.get("urls", {})
    rules: dict[str, tuple[str, ...]] = {}
    for name in ("allow", "deny"):
        rules[name] = tuple(urls.get(name, ()))
        try:
            re.compile("|".join(rules[name]))
        except re.error as exc:
            raise ConfigError(
                f"validation.manifests.urls.{name}", f"invalid regular expression: {exc}"
            ) from None
    indexes = manifests.get("indexes", {})
    platforms = _choice(indexes.get("platforms", "all"), ("all", "none", "list"), "indexes.platforms")
    platform_list = tuple(_platform(entry) for entry in indexes.get("platformlist") or ())
    if platforms == "list" and not platform_list:
        raise ConfigError("validation.manifests.indexes.platformlist", "platforms is list: name at least one")
    layers = manifests.get("layers", {})
    return ValidationConfig(
        enabled=validation.get("enabled", False) or not validation.get("disabled", False),
        allow=rules["allow"],
        deny=rules["deny"],
        indexes=indexes,
        index_platforms=platforms,
        platform_list=platform_list,
        layers_required=_choice(layers.get("required", "all"), ("all", "none"), "layers.required"),
    )


def _choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    text = str(value).lower()  # distribution compares case-insensitively ("List")
    if text not in allowed:
        raise ConfigError(
            f"validation.manifests.{key}", f"must be one of {', '.join(allowed)}, got {value!r}"
        )
    return text


def _platform(entry: Any) -> tuple[str, str]:
    key = "validation.manifests.indexes.platformlist"
    if not isinstance(entry, Mapping) or not entry.get("os") or not entry.get("architecture"):
        raise ConfigError(key, f"each entry needs os and architecture, got {entry!r}")
    return str(entry["os"]), str(entry["architecture"])
