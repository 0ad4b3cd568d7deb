"""Typed registry configuration: distribution's YAML keys and defaults, plus its ``REGISTRY_*`` overrides.

``load_config(path, environ)`` reads the file (or the embedded default), applies the environment, and
returns a frozen ``Config``. The pipeline, one module per step::

    tree.py      YAML → raw tree (scalars keep their text, as Go's decoder types by destination)
    environ.py   REGISTRY_A_B=value overrides, walked over schema.py's shape of distribution's structs
    decode.py    raw tree → plain values typed by the schema; unknown keys logged and dropped
    storage.py,  plain values → model.py's dataclasses, validated
    sections.py
    load.py      load_config / parse_config

Every invalid value raises ``ConfigError`` (a ``ValueError``) whose message starts with the dotted key;
unknown keys are warnings on the ``registry.config`` logger.
"""

from __future__ import annotations

from .duration import format_duration, parse_duration
from .errors import ConfigError
from .load import DEFAULT_CONFIG_YAML, load_config, parse_config
from .model import (
    AccessLogConfig,
    CacheConfig,
    CatalogConfig,
    Config,
    DebugConfig,
    DeleteConfig,
    EventsConfig,
    FilesystemConfig,
    H2CConfig,
    HTTP2Config,
    HTTPConfig,
    HTTPLimitsConfig,
    LogConfig,
    MaintenanceConfig,
    NotificationsConfig,
    PrometheusConfig,
    ProxyConfig,
    ReadOnlyConfig,
    RedirectConfig,
    RedisConfig,
    RedisPoolConfig,
    RedisTLSConfig,
    StorageConfig,
    TagsConfig,
    TLSConfig,
    UploadPurgingConfig,
    ValidationConfig,
    split_host_port,
)
from .sections import RANDOM_SECRET_WARNING, generate_http_secret

__all__ = [
    "DEFAULT_CONFIG_YAML",
    "RANDOM_SECRET_WARNING",
    "AccessLogConfig",
    "CacheConfig",
    "CatalogConfig",
    "Config",
    "ConfigError",
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
    "format_duration",
    "generate_http_secret",
    "load_config",
    "parse_config",
    "parse_duration",
    "split_host_port",
]
