"""The raw configuration tree: YAML parsed to dicts, lists and scalars that keep their source text.

Go's YAML decoder types a scalar by its destination (``secret: 0123`` is the string ``"0123"`` in a string
field), so the tree keeps each scalar's text beside its YAML 1.1 value until the schema decides.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, TypeAlias

import yaml

from .errors import ConfigError

__all__ = ["Raw", "Scalar", "parse_yaml", "to_plain"]


@dataclass(frozen=True)
class Scalar:
    """A YAML scalar: its ``text`` as written, its YAML 1.1 ``value`` (None for null), where it came from."""

    text: str
    value: Any
    source: str = ""

    @property
    def is_null(self) -> bool:
        return self.value is None


Raw: TypeAlias = "dict[str, Raw] | list[Raw] | Scalar"

NULL = Scalar("", None)


def parse_yaml(text: str, source: str = "", what: str = "") -> Raw:
    """Parse one YAML document into the raw tree; an empty document is null.

    ``source`` is recorded on every scalar (an environment variable's name); ``what`` names the input
    in error messages.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return NULL if node is None else _convert(loader, node, source)
    except yaml.YAMLError as exc:
        raise ConfigError("", f"invalid YAML in {what or 'configuration'}: {exc}") from exc
    finally:
        loader.dispose()


def _convert(loader: yaml.SafeLoader, node: yaml.Node, source: str) -> Raw:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<), as Go's decoder does
        out: dict[str, Raw] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError("", f"non-scalar mapping key at {key_node.start_mark}")
            out[key_node.value] = _convert(loader, value_node, source)  # the last duplicate wins
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, source) for item in node.value]
    value = loader.construct_object(node, deep=True)
    if isinstance(value, datetime.date | bytes):  # Go leaves timestamps as strings; binary is rare
        value = node.value
    return Scalar(node.value, value, source)


def to_plain(raw: Raw) -> Any:
    """The tree as ordinary Python values (what Go decodes into ``interface{}``)."""
    if isinstance(raw, dict):
        return {key: to_plain(value) for key, value in raw.items()}
    if isinstance(raw, list):
        return [to_plain(item) for item in raw]
    return raw.value
