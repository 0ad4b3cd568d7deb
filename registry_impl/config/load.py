"""``load_config``: a YAML file (or the embedded default), then ``REGISTRY_*`` overrides, then typing."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .decode import decode
from .environ import apply_environment
from .errors import ConfigError
from .model import Config
from .schema import CONFIGURATION
from .sections import (
    build_auth,
    build_catalog,
    build_http,
    build_log,
    build_notifications,
    build_proxy,
    build_redis,
    build_tags,
    build_ui,
    build_validation,
)
from .storage import build_storage
from .support import review
from .tree import Scalar, parse_yaml

__all__ = ["DEFAULT_CONFIG_YAML", "SUPPORTED_VERSION", "load_config", "parse_config"]

SUPPORTED_VERSION = "0.1"

# What ``load_config(None)`` reads: a development setup, on loopback, with deletes enabled.
DEFAULT_CONFIG_YAML = """\
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: ./data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:5000
  headers:
    X-Content-Type-Options: [nosniff]
ui:
  enabled: true
"""


def load_config(path: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the configuration file at ``path`` (``None``: ``DEFAULT_CONFIG_YAML``) with overrides from
    ``environ`` (``None``: ``os.environ``).

    Raises ``ConfigError`` for an invalid configuration and ``OSError`` when the file cannot be read.
    """
    if path is None:
        return parse_config(DEFAULT_CONFIG_YAML, environ, "the embedded default configuration")
    return parse_config(Path(path).read_text(encoding="utf-8"), environ, os.fspath(path))


def parse_config(
    text: str, environ: Mapping[str, str] | None = None, source: str = "configuration"
) -> Config:
    """Parse configuration YAML ``text`` (``source`` names it in messages); see ``load_config``."""
    raw = parse_yaml(text, what=source)
    if not isinstance(raw, dict):
        raise ConfigError("", f"{source}: expected a mapping of configuration sections")
    _check_version(raw.get("version"))
    raw = apply_environment(raw, os.environ if environ is None else environ)
    tree = decode(CONFIGURATION, raw)
    return dataclasses.replace(build_config(tree), findings=review(tree))


def _check_version(version: object) -> None:
    if not isinstance(version, Scalar) or version.is_null:
        raise ConfigError("version", f"required, must be {SUPPORTED_VERSION}")
    if version.text != SUPPORTED_VERSION:
        raise ConfigError("version", f"unsupported version {version.text!r}, must be {SUPPORTED_VERSION}")


def build_config(tree: Mapping[str, Any]) -> Config:
    """The typed configuration from the decoded tree (what ``decode(CONFIGURATION, raw)`` returns)."""
    storage = build_storage(tree.get("storage", {}))
    redis = build_redis(tree.get("redis", {}))
    if storage.cache.blobdescriptor == "redis" and not redis.enabled:
        raise ConfigError("storage.cache.blobdescriptor", "the redis cache requires redis.addr")
    auth_scheme, auth_params = build_auth(tree.get("auth", {}))
    return Config(
        storage=storage,
        version=tree["version"],
        log=build_log(tree.get("log", {}), tree.get("loglevel", "")),
        http=build_http(tree.get("http", {})),
        auth_scheme=auth_scheme,
        auth_params=auth_params,
        redis=redis,
        notifications=build_notifications(tree.get("notifications", {})),
        proxy=build_proxy(tree.get("proxy", {})),
        catalog=build_catalog(tree.get("catalog", {})),
        tags=build_tags(tree.get("tags", {})),
        ui=build_ui(tree.get("ui", {})),
        validation=build_validation(tree.get("validation", {})),
        middleware=tree.get("middleware", {}),
        health=tree.get("health", {}),
        extras={name: tree[name] for name in ("reporting", "compatibility", "policy") if name in tree},
    )
