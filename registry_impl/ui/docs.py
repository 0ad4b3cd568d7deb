"""The API documentation served live: ``generated/openapi.yaml``, Swagger UI over it, ``generated/api.md`` as HTML.

Swagger UI comes from the packaged ``swagger-ui-bundle`` (the one connexion supports), served from this
registry: no CDN, nothing fetched from the internet. The Markdown is rendered once per process.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import registry_generated
from markdown_it import MarkdownIt
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

__all__ = ["SWAGGER_DIR", "ApiDocs", "api_reference_html"]

GENERATED = Path(registry_generated.__file__).resolve().parent


def _swagger_dir() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # the UI still serves the spec and the reference without it
        return None
    return Path(str(swagger_ui_path))


SWAGGER_DIR = _swagger_dir()


@functools.cache
def api_reference_html() -> str:
    """``generated/api.md`` rendered (CommonMark with GitHub tables; raw HTML in it stays escaped)."""
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    html: str = parser.render((GENERATED / "api.md").read_text(encoding="utf-8"))
    return html


@functools.cache
def framework_spec() -> bytes:
    """The document as Swagger UI 4 reads it: labelled OpenAPI 3.0.3, as the framework binding reads it
    (``registry_impl.api.app.load_specification``: written in the subset 3.0 and 3.1 share)."""
    from registry_impl.api.app import load_specification

    return json.dumps(load_specification()).encode()


class ApiDocs:
    def __init__(self, templates: Jinja2Templates) -> None:
        self.templates = templates
        self.spec = (GENERATED / "openapi.yaml").read_bytes()

    async def openapi(self, _request: Request) -> Response:
        """``generated/openapi.yaml`` byte for byte."""
        return Response(self.spec, media_type="application/yaml")

    async def swagger_spec(self, _request: Request) -> Response:
        return Response(framework_spec(), media_type="application/json")

    async def swagger(self, request: Request) -> Response:
        return self.templates.TemplateResponse(
            request, "swagger.html", {"available": SWAGGER_DIR is not None}
        )

    async def reference(self, request: Request) -> Response:
        return self.templates.TemplateResponse(request, "reference.html", {"body": api_reference_html()})
