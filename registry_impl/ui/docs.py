"""The API documentation served live: ``generated/openapi.yaml``, Swagger UI over it, ``generated/api.md`` as HTML.

Swagger UI comes from the packaged ``swagger-ui-bundle`` (the one connexion supports), served from this
registry: no CDN, nothing fetched from the internet. The Markdown is rendered once per process.
"""

from __future__ import annotations

import functools
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


class ApiDocs:
    def __init__(self, templates: Jinja2Templates) -> None:
        self.templates = templates
        self.spec = (GENERATED / "openapi.yaml").read_bytes()

    async def openapi(self, _request: Request) -> Response:
        return Response(self.spec, media_type="application/yaml")

    async def swagger(self, request: Request) -> Response:
        return self.templates.TemplateResponse(
            request, "swagger.html", {"available": SWAGGER_DIR is not None}
        )

    async def reference(self, request: Request) -> Response:
        return self.templates.TemplateResponse(request, "reference.html", {"body": api_reference_html()})
