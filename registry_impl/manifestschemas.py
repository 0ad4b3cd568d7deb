"""The manifest schemas as checks: a compiled fast check first, jsonschema's word when it fails.

jsonschema walks a schema keyword by keyword (~140 µs for a one-layer image manifest, a fifth of a
manifest PUT); fastjsonschema compiles the same schema to Python (~11 µs). The answer stays
jsonschema's: a document the compiled check accepts is accepted, and one it refuses is judged, and
explained, by jsonschema. So the compiled check may be stricter than jsonschema, never laxer
(``tests/unit/test_manifestschemas.py`` holds it to that over generated and mutated documents).

fastjsonschema reads drafts 4 to 7; the schemas (``registry_spec.mediatypes``) are 2020-12 and use only
keywords whose meaning did not change between the two (``type``, ``properties``, ``required``,
``items`` with one schema, ``additionalProperties``, ``enum``, ``pattern``, ``minimum``, ``allOf``,
``$ref`` without siblings), so they are read as draft 7 once ``$defs`` is spelled ``definitions``.
It rewrites a pattern's ``$`` as ``\\Z`` (stricter: no newline before the end), a ``$`` inside a
character class too, which breaks the class; those are escaped first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from registry_spec import mediatypes as mt

if TYPE_CHECKING:
    import jsonschema

__all__ = ["schema_error"]

_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_DRAFT7 = "http://json-schema.org/draft-07/schema#"
_DRAFT7_KEYWORDS = frozenset(
    {
        "$schema", "$defs", "$ref", "title", "description", "type", "properties", "required", "items",
        "additionalProperties", "enum", "pattern", "minimum", "allOf",
    }
)  # fmt: skip


def _class_dollars_escaped(pattern: str) -> str:
    return _CLASS.sub(lambda m: m.group(0).replace("\\$", "$").replace("$", "\\$"), pattern)


def as_draft7(schema: Any, *, in_properties: bool = False) -> Any:
    """``schema`` (2020-12) as draft 7; ValueError for a keyword whose meaning this does not carry over."""
    if isinstance(schema, list):
        return [as_draft7(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if in_properties:  # names of properties, not keywords
        return {name: as_draft7(sub) for name, sub in schema.items()}
    unknown = set(schema) - _DRAFT7_KEYWORDS
    if unknown:
        raise ValueError(f"schema keywords not carried over to draft 7: {sorted(unknown)}")
    if "$ref" in schema and len(schema) > 1:
        raise ValueError("a $ref with siblings means something else in draft 7")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$schema":
            out[key] = _DRAFT7
        elif key == "$defs":
            out["definitions"] = as_draft7(value, in_properties=True)
        elif key == "$ref":
            out[key] = value.replace("#/$defs/", "#/definitions/")
        elif key == "pattern":
            out[key] = _class_dollars_escaped(value)
        elif key in ("title", "description", "enum", "required", "type", "minimum"):
            out[key] = value
        else:
            out[key] = as_draft7(value, in_properties=key == "properties")
    return out


@cache
def _reference(schema_name: str) -> jsonschema.protocols.Validator:
    """jsonschema's validator (imported on the first refusal: ~45 ms that a worker's start does not pay)."""
    import jsonschema

    schema = mt.standalone_schema(schema_name)
    return jsonschema.validators.validator_for(schema)(schema)  # type: ignore[no-any-return]


@cache
def _compiled(schema_name: str) -> Callable[[Any], bool]:
    """Whether a document passes the compiled check (compiled on first use: the import alone costs ~8 ms,
    which a registry that is never pushed to does not pay at start)."""
    import fastjsonschema

    check = fastjsonschema.compile(as_draft7(mt.standalone_schema(schema_name)))

    def passes(document: Any) -> bool:
        try:
            check(document)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    return passes


def schema_error(schema_name: str, document: Any) -> jsonschema.ValidationError | None:
    """Why ``document`` does not match the schema (jsonschema's best match), or None when it does."""
    if _compiled(schema_name)(document):
        return None
    reference = _reference(schema_name)
    import jsonschema.exceptions

    return jsonschema.exceptions.best_match(reference.iter_errors(document))
