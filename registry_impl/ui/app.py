"""The UI as an ASGI app under ``/ui``, and ``with_ui``: the one prefix check in front of the registry.

Everything outside ``/ui`` goes to the registry application untouched (one string comparison per
request); the UI reads that same application through ``upstream``. Every UI answer carries a strict
Content-Security-Policy: scripts and styles only from this origin, no inline script, no framing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry_impl.services.state import State
from registry_impl.ui.docs import SWAGGER_DIR, ApiDocs
from registry_impl.ui.links import path_for
from registry_impl.ui.mount import PREFIX, WithUI
from registry_impl.ui.pages import Pages
from registry_impl.ui.upstream import Upstream

__all__ = ["CSP", "PREFIX", "create_ui", "with_ui"]

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


@jinja2.pass_context
def _url_for(context: dict[str, Any], name: str, /, **params: Any) -> URL:
    return path_for(context["request"], name, **params)


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    templates = Jinja2Templates(env=env)
    env.globals["url_for"] = _url_for  # relative paths, not Starlette's absolute URLs
    return templates


async def _home(_request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def create_ui(registry: ASGIApp, *, delete_enabled: bool, state: State | None = None) -> ASGIApp:
    """The UI application over the registry application ``registry``; ``state`` (the registry's) gives the
    stored usage report to show beside the repositories the API let the user see."""
    templates = _templates()
    pages = Pages(Upstream(registry), templates, delete_enabled, state)
    docs = ApiDocs(templates)
    repo = f"{PREFIX}/repositories/{{name:path}}"
    routes = [
        Route(PREFIX, _home),
        Route(f"{PREFIX}/", pages.repositories, name="ui-repositories"),
        Route(f"{repo}/-/manifests/{{reference}}", pages.manifest, name="ui-manifest"),
        Route(f"{repo}/-/delete/{{reference}}", pages.delete, methods=["POST"], name="ui-delete"),
        Route(repo, pages.repository, name="ui-repository"),
        Route(f"{PREFIX}/api/", docs.swagger, name="ui-swagger"),
        Route(f"{PREFIX}/api/openapi.yaml", docs.openapi, name="ui-openapi"),
        Route(f"{PREFIX}/api/openapi-3.0.json", docs.swagger_spec, name="ui-swagger-spec"),
        Route(f"{PREFIX}/api/reference", docs.reference, name="ui-reference"),
        Mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="ui-static"),
    ]
    if SWAGGER_DIR is not None:
        routes.append(Mount(f"{PREFIX}/swagger", StaticFiles(directory=SWAGGER_DIR), name="ui-swagger-files"))
    return _SecurityHeaders(Starlette(routes=routes))


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in SECURITY_HEADERS}
                kept = [h for h in message.get("headers", []) if h[0].lower() not in names]
                message["headers"] = kept + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_ui(
    registry: ASGIApp, *, delete_enabled: bool, root_path: str = "", state: State | None = None
) -> ASGIApp:
    """``registry`` with the UI answering under ``/ui`` (lifespan and every other path pass through);
    ``root_path`` is where a ``PathPrefix`` around it puts the registry (``http.prefix``), for the UI's links."""
    return WithUI(registry, create_ui(registry, delete_enabled=delete_enabled, state=state), root_path)
