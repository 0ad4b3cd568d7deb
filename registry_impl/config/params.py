"""Typed reads from ``Parameters`` maps (storage driver and auth options), which YAML leaves untyped."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .decode import join_key, warn_unknown
from .duration import parse_duration
from .errors import ConfigError

__all__ = ["get_bool", "get_duration", "get_int", "get_str", "section", "warn_unknown_keys"]


def section(params: Mapping[str, Any], name: str, key: str) -> Mapping[str, Any]:
    """The sub-mapping ``params[name]`` ({} when absent or null); anything else is an error."""
    value = params.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(join_key(key, name), f"expected a mapping, got {value!r}")
    return value


def warn_unknown_keys(params: Mapping[str, Any], known: frozenset[str], key: str) -> None:
    """Warn about each key of ``params`` (found at ``key``) not in ``known``."""
    for name in params:
        if name not in known:
            warn_unknown(join_key(key, name))


def get_bool(params: Mapping[str, Any], name: str, key: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise ConfigError(join_key(key, name), f"expected a boolean, got {value!r}")


def get_int(params: Mapping[str, Any], name: str, key: str, default: int, minimum: int | None = None) -> int:
    """An integer, also written as a decimal string (as distribution's drivers accept)."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(join_key(key, name), f"expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(join_key(key, name), f"must be at least {minimum}, got {value}")
    return value


def get_str(params: Mapping[str, Any], name: str, key: str, default: str = "") -> str:
    """A string; numbers are taken as written (Go's ``fmt.Sprint``)."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(join_key(key, name), f"expected a string, got {value!r}")


def get_duration(params: Mapping[str, Any], name: str, key: str, default: timedelta) -> timedelta:
    """A Go duration string (``168h``), as distribution requires for these parameters."""
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigError(join_key(key, name), f"expected a duration string such as '24h', got {value!r}")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(join_key(key, name), str(exc)) from None
