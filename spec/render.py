"""Render generated/ from the descriptor through Jinja, then parse and validate what was written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jinja2
import yaml
from openapi_spec_validator import validate

from . import mediatypes as mt
from .routes import GLOBAL_FAILURES, ROUTES
from .views import error_codes, path_views

TEMPLATES = Path(__file__).parent / "templates"
API_VERSION = "1.1.0"
INFO = {
    "title": "Docker Registry HTTP API V2 / OCI Distribution 1.1",
    "version": API_VERSION,
    "description": (
        "The registry HTTP API: Docker Registry V2 and the OCI distribution-spec 1.1 (pull, push, content "
        "discovery, content management, referrers). Every error body is the registry error envelope "
        '`{"errors":[{"code","message","detail"}]}`; every answer carries '
        "`Docker-Distribution-API-Version: registry/2.0`."
    ),
    "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False, separators=(", ", ": "), default=_plain)


def _without_name(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != "name"}


def environment(*search: Path) -> jinja2.Environment:
    """The Jinja environment of every document: StrictUndefined, ``tojson`` (dataclasses as objects), templates
    looked up in ``search`` first, then in this package's own ``templates/`` (a user's template may include ours).
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*search, TEMPLATES]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["tojson"] = _tojson
    env.filters["without_name"] = _without_name
    return env


@dataclasses.dataclass(frozen=True)
class SchemaView:
    """A JSON Schema of the descriptor: ``schema`` as a value, ``text`` indented JSON."""

    name: str
    description: str
    schema: dict[str, Any]
    text: str


def template_context() -> dict[str, Any]:
    """What every template sees, ours and a user's (``registry-spec template``); documented in the README.

    ``routes`` (the descriptor: Route → Method → Request → Response/Param/Body), ``paths`` (the same per
    OpenAPI path, request variants merged), ``error_codes`` (ErrorCode), ``media_types`` ((type, meaning)),
    ``manifest_types`` ((type, schema name)), ``schemas`` (SchemaView), ``tags``, ``info``, ``global_failures``
    (the Responses any operation can give, each also merged into every operation's), and the helpers
    ``example_request(route, method, request)``, ``merged_responses(method)`` and ``codes_text(codes)``.
    """
    from .views import codes_text, example_request, merged_responses

    return {
        "info": INFO,
        "routes": ROUTES,
        "paths": path_views(),
        "tags": [{"name": r.entity, "description": r.description} for r in ROUTES],
        "error_codes": error_codes(),
        "media_types": list(mt.MEDIA_TYPE_DESCRIPTIONS.items()),
        "manifest_types": list(mt.MANIFEST_SCHEMA_BY_TYPE.items()),
        "schemas": [
            SchemaView(name, mt.SCHEMA_DESCRIPTIONS[name], schema, json.dumps(schema, indent=2))
            for name, schema in mt.SCHEMAS.items()
        ],
        "example_request": example_request,
        "merged_responses": merged_responses,
        "codes_text": codes_text,
        "global_failures": GLOBAL_FAILURES,
    }


def render_template(env: jinja2.Environment, name: str) -> str:
    """One template against the descriptor: the path of generated/ and of a user's templates alike."""
    return env.get_template(name).render(**template_context())


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a mapping with the same key twice."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise ValueError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_openapi(text: str) -> dict[str, Any]:
    """Parse and validate an OpenAPI document; duplicate keys and spec violations raise."""
    document: dict[str, Any] = yaml.load(text, Loader=_UniqueKeyLoader)
    validate(document)
    return document


def render_openapi(env: jinja2.Environment) -> str:
    text = render_template(env, "openapi.yaml.j2")
    parse_openapi(text)
    return text


def openapi_json(text: str) -> str:
    """The rendered OpenAPI document as JSON: the same document, which the server loads at start-up
    (json.loads takes ~1 ms where PyYAML's construction of the YAML takes ~70 ms of every worker's start)."""
    return json.dumps(yaml.safe_load(text), indent=1) + "\n"


def render_api_md(env: jinja2.Environment) -> str:
    return render_template(env, "api.md.j2")


def render_formats_md(env: jinja2.Environment) -> str:
    return render_template(env, "formats.md.j2")


def render_user_templates(templates: list[Path]) -> dict[str, str]:
    """Each of a third party's Jinja templates rendered against the descriptor, by output name (the file's
    name without a trailing ``.j2``); an undefined name in a template raises (StrictUndefined)."""
    out: dict[str, str] = {}
    for template in templates:
        env = environment(template.resolve().parent)
        name = template.name[: -len(".j2")] if template.name.endswith(".j2") else template.name
        out[name] = render_template(env, template.name)
    return out


def render_all() -> dict[str, str]:
    """Every file of generated/, by relative path, as text."""
    env = environment()
    openapi = render_openapi(env)
    files = {
        "openapi.yaml": openapi,
        "openapi.json": openapi_json(openapi),
        "api.md": render_api_md(env),
        "formats.md": render_formats_md(env),
    }
    for name in mt.SCHEMAS:
        files[f"schemas/{name}.json"] = json.dumps(mt.standalone_schema(name), indent=2) + "\n"
    return files


def write_all(target: Path) -> list[Path]:
    """Render into ``target`` and return the files written."""
    written = []
    for relative, text in render_all().items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_files(target: Path) -> list[str]:
    """Relative paths under ``target`` that differ from a fresh render, are missing, or are extra."""
    fresh = render_all()
    stale = [
        rel
        for rel, text in fresh.items()
        if not (target / rel).is_file() or (target / rel).read_text(encoding="utf-8") != text
    ]
    existing = {str(p.relative_to(target)) for p in (target / "schemas").glob("*.json")}
    stale += sorted(existing - set(fresh))
    return stale
