"""``--format``: a Jinja template rendered against a command's JSON value (``inspect``: the image, ``ls``: each tag).

The template sees the value's keys as variables (``{{ digest }}``, ``{{ layers | length }}``) and the whole value
as ``this``; an unknown name is an error, not an empty string (``StrictUndefined``). Jinja comes with the ``dist``
extra; without it ``--format`` says so.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from .stores import StoreError

__all__ = ["render"]


@lru_cache(maxsize=8)
def _compile(template: str) -> Any:
    try:
        import jinja2
    except ImportError as exc:
        raise StoreError("--format needs Jinja: pip install 'pydistribution[dist]'") from exc
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters["json"] = lambda value: json.dumps(value)
    try:
        return env.from_string(template)
    except jinja2.TemplateSyntaxError as exc:
        raise StoreError(f"--format: {exc.message} (line {exc.lineno})") from exc


def render(template: str, value: dict[str, Any]) -> str:
    """``template`` rendered with ``value``; a syntax error or an unknown name raises :class:`StoreError`."""
    compiled = _compile(template)
    import jinja2

    try:
        return str(compiled.render(this=value, **value))
    except jinja2.UndefinedError as exc:
        raise StoreError(f"--format: {exc.message}") from exc
