"""Raw tree → plain Python values typed by the schema, as Go's YAML decoder would type them.

Strings keep their text as written, booleans accept YAML 1.1's spellings, durations are Go duration
strings or integer nanoseconds (Go's decoder reads ``draintimeout: 60`` as 60ns), and nulls become the
type's zero value. Keys the schema does not know are logged as warnings and dropped.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from .duration import parse_duration, timedelta_from_ns
from .errors import ConfigError
from .schema import Leaf, ListOf, MapOf, Node, Struct
from .tree import Raw, Scalar, to_plain

__all__ = ["decode", "join_key", "warn_unknown"]

log = logging.getLogger("registry.config")

_YAML11_BOOLS = {"y": True, "Y": True, "n": False, "N": False}  # Go's YAML 1.1 has these; PyYAML does not
_KIND_NAMES = {"str": "a string", "bool": "a boolean", "int": "an integer", "duration": "a duration"}


def join_key(parent: str, key: str) -> str:
    """``parent.key``, or ``key`` at the top."""
    return f"{parent}.{key}" if parent else key


def warn_unknown(key: str) -> None:
    """Log that the dotted ``key`` is not a configuration key this registry knows, and is ignored."""
    log.warning("unknown configuration key %s (ignored)", key)


def decode(node: Node, raw: Raw, key: str = "") -> Any:
    """Type ``raw`` (found at the dotted ``key``) by ``node``; raise ``ConfigError`` naming the key."""
    if isinstance(node, Struct):
        fields = _mapping(raw, key)
        out: dict[str, Any] = {}
        for name, value in fields.items():
            if name in node.fields:
                out[name] = decode(node.fields[name], value, join_key(key, name))
            else:
                warn_unknown(join_key(key, name))
        return out
    if isinstance(node, MapOf):
        if node.shorthand and isinstance(raw, Scalar) and isinstance(raw.value, str) and raw.value:
            return {raw.value: {}}
        return {
            name: decode(node.value, value, join_key(key, name)) for name, value in _mapping(raw, key).items()
        }
    if isinstance(node, ListOf):
        if isinstance(raw, Scalar) and raw.is_null:
            return []
        if not isinstance(raw, list):
            raise ConfigError(key, f"expected a list, got {_describe(raw)}", _source(raw))
        return [decode(node.item, item, f"{key}[{i}]") for i, item in enumerate(raw)]
    return _leaf(node, raw, key)


def _mapping(raw: Raw, key: str) -> dict[str, Raw]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, Scalar) and raw.is_null:
        return {}
    raise ConfigError(key, f"expected a mapping, got {_describe(raw)}", _source(raw))


def _leaf(node: Leaf, raw: Raw, key: str) -> Any:
    if node.kind == "any":
        return to_plain(raw)
    if not isinstance(raw, Scalar):
        raise ConfigError(key, f"expected {_KIND_NAMES[node.kind]}, got {_describe(raw)}", _source(raw))
    value = raw.value
    if node.kind == "str":
        return "" if value is None else value if isinstance(value, str) else raw.text
    if node.kind == "bool":
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, str) and value in _YAML11_BOOLS:
            return _YAML11_BOOLS[value]
    elif node.kind == "int":
        if value is None:
            return 0
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif node.kind == "duration":
        return _duration(raw, key)
    raise ConfigError(key, f"expected {_KIND_NAMES[node.kind]}, got {_describe(raw)}", raw.source)


def _duration(raw: Scalar, key: str) -> timedelta:
    value = raw.value
    if value is None:
        return timedelta(0)
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta_from_ns(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ConfigError(key, str(exc), raw.source) from None
    raise ConfigError(key, f"expected a duration, got {_describe(raw)}", raw.source)


def _describe(raw: Raw) -> str:
    if isinstance(raw, dict):
        return "a mapping"
    if isinstance(raw, list):
        return "a list"
    return f"{raw.text!r}"


def _source(raw: Raw) -> str:
    return raw.source if isinstance(raw, Scalar) else ""
