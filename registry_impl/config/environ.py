"""``REGISTRY_*`` environment overrides, applied to the raw tree as distribution's parser applies them.

``REGISTRY_A_B_C=value`` walks the path ``A``, ``B``, ``C``: a struct field is matched by its upper-cased Go
field name (unknown ones are ignored with a warning), a map key by its upper-cased key (a new key is added
in lower case), a list element by its index (the next index appends). The value is parsed as YAML and
replaces what was there, whole: ``REGISTRY_STORAGE=s3`` replaces the entire ``storage`` section with
``{s3: {}}``. Variables apply in lexical order of their names, so a section is replaced before the
variables below it refine it (``REGISTRY_STORAGE`` before ``REGISTRY_STORAGE_S3_BUCKET``).

Keys containing ``_`` cannot be reached one by one (the name is split at every ``_``); set their parent
map whole instead: ``REGISTRY_STORAGE_GCS_CREDENTIALS='{private_key: ...}'``.

Two departures from distribution: ``REGISTRY_VERSION`` and ``REGISTRY_CONFIGURATION_PATH`` (which
locates the file) are skipped, and a variable that ends at a list element (``..._HOSTS_0=x``) sets that
element, as distribution's documentation says, where its parser only appends an empty one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from .errors import ConfigError
from .schema import ANY, CONFIGURATION, Leaf, ListOf, MapOf, Node, Struct
from .tree import NULL, Raw, Scalar, parse_yaml

__all__ = ["PREFIX", "apply_environment"]

PREFIX = "REGISTRY_"
_NOT_OVERRIDES = frozenset({"REGISTRY_VERSION", "REGISTRY_CONFIGURATION_PATH"})

log = logging.getLogger("registry.config")


def apply_environment(raw: Raw, environ: Mapping[str, str], schema: Struct = CONFIGURATION) -> Raw:
    """Apply every ``REGISTRY_*`` variable of ``environ`` to ``raw`` (modified in place and returned)."""
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in _NOT_OVERRIDES:
            continue
        payload = parse_yaml(environ[name], source=name, what=f"environment variable {name}")
        raw = _Override(name, payload).apply(schema, raw, name.split("_")[1:], [])
    return raw


class _Override:
    """One variable being applied: its name (for messages) and its parsed value."""

    def __init__(self, name: str, payload: Raw) -> None:
        self.name = name
        self.payload = payload

    def apply(self, node: Node, current: Raw | None, path: list[str], where: list[str]) -> Raw:
        """The new value of the position ``where`` (holding ``current``) after following ``path`` below it."""
        if isinstance(current, Scalar) and not current.is_null and not isinstance(node, Leaf):
            if not (isinstance(node, MapOf) and node.shorthand and isinstance(current.value, str)):
                return current  # a type error in the file itself: decoding reports it
            current = {current.value: {}}
        if isinstance(node, Struct):
            return self._struct(node, current if isinstance(current, dict) else {}, path, where)
        if isinstance(node, MapOf):
            return self._map(node.value, current if isinstance(current, dict) else {}, path, where)
        if isinstance(node, ListOf):
            return self._list(node.item, current if isinstance(current, list) else [], path, where)
        if node.kind == "any":  # interface{}: descend into what it holds, a new map when nil
            if isinstance(current, list):
                return self._list(ANY, current, path, where)
            if isinstance(current, dict) or current is None or current.is_null:
                return self._map(ANY, current if isinstance(current, dict) else {}, path, where)
        log.warning("ignoring environment variable %s: %s is not a section", self.name, _dotted(where))
        return NULL if current is None else current

    def _struct(self, node: Struct, fields: dict[str, Raw], path: list[str], where: list[str]) -> Raw:
        key = node.key_for_env(path[0])
        if key is None:
            log.warning("ignoring unrecognized environment variable %s", self.name)
            return fields
        if len(path) == 1:
            fields[key] = self.payload
        else:
            fields[key] = self.apply(node.fields[key], fields.get(key), path[1:], [*where, key])
        return fields

    def _map(self, value: Node, entries: dict[str, Raw], path: list[str], where: list[str]) -> Raw:
        if len(path) > 1:
            for key, existing in entries.items():
                if key.upper() == path[0]:
                    if isinstance(existing, Scalar) and existing.is_null:
                        break  # distribution recreates a nil entry under the lower-cased name
                    entries[key] = self.apply(value, existing, path[1:], [*where, key])
                    return entries
        key = path[0].lower()
        if len(path) == 1:
            entries[key] = self.payload
        else:
            entries[key] = self.apply(value, None, path[1:], [*where, key])
        return entries

    def _list(self, item: Node, items: list[Raw], path: list[str], where: list[str]) -> Raw:
        segment = path[0]
        if not (segment.isascii() and segment.isdigit()):
            raise ConfigError(_dotted(where), f"non-numeric index {segment!r}", self.name)
        index = int(segment)
        if index > len(items):
            raise ConfigError(
                _dotted(where), f"undefined index {index} (the list has {len(items)})", self.name
            )
        if index == len(items):
            items.append(NULL)
        if len(path) == 1:
            items[index] = self.payload
        else:
            items[index] = self.apply(item, items[index], path[1:], [*where, f"[{index}]"])
        return items


def _dotted(where: list[str]) -> str:
    return ".".join(where).replace(".[", "[")
