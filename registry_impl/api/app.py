"""create_app(): the only module that imports connexion; binds generated/openapi.yaml to the handlers."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from registry_impl.api.imports import unused_dependencies_skipped

with warnings.catch_warnings(), unused_dependencies_skipped():
    # connexion imports Starlette's test client, which warns about httpx; unused
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    import connexion
import registry_generated
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.spec import OpenAPISpecification
from connexion.validators import FormDataValidator, JSONRequestBodyValidator, MultiPartFormDataValidator
from registry_spec import errors as E
from registry_spec.router import ROUTER
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp

from registry_impl import errors as D
from registry_impl.api import errors as api_errors
from registry_impl.api.context import AppState, ContextMiddleware, RoutedScopeMiddleware, routed_scope
from registry_impl.api.handlers import handler_for
from registry_impl.api.limits import body_cut_short
from registry_impl.api.maintenance import collect_forever, purge_forever
from registry_impl.api.middleware import (
    MANIFEST_DOCUMENT,
    HeadersMiddleware,
    ManifestSizeLimit,
    OwnExtensions,
    WriteGate,
)
from registry_impl.api.problems import refusal
from registry_impl.api.stack import compose
from registry_impl.observability.requestids import request_id
from registry_impl.services.offload import Offload

log = logging.getLogger("registry.api")
SPEC_DIR = Path(registry_generated.__file__).resolve().parent
SPEC_FILE = "openapi.json"  # generated/openapi.yaml as JSON, rendered beside it (loads ~70x faster)
FRAMEWORK_OPENAPI_VERSION = "3.0.3"


def _to_connexion(response: Response) -> ConnexionResponse:
    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")
    }
    return ConnexionResponse(
        status_code=response.status_code,
        mimetype=response.media_type or "application/json",
        body=response.body,
        headers=headers,
    )


def _domain_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, D.RegistryError)
    return _to_connexion(api_errors.error_response(exc))


def _problem(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    scope = routed_scope() or request.scope
    operation = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id") or ""
    return _to_connexion(
        refusal(
            operation,
            scope.get("path_params") or {},
            dict(request.query_params),
            {k.lower(): v for k, v in request.headers.items()},
            exc.status,
            str(exc.detail or exc.title or ""),
        )
    )


def _http_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    status = getattr(exc, "status_code", 500)
    if status == 404:
        return _to_connexion(
            api_errors.envelope([(E.UNSUPPORTED, "no route matches the request", None)], status=404)
        )
    if status == 405:
        # the route exists, the method is not one of its own: say which are (RFC 9110 §15.5.6), and answer
        # OPTIONS, a browser's CORS preflight, with them as distribution does (``http.headers`` adds the
        # Access-Control-* headers a cross-origin UI needs)
        allow = ", ".join(ROUTER.allowed(_request.scope["path"]))
        headers = {"Allow": allow} if allow else None
        if _request.method == "OPTIONS" and allow:
            return _to_connexion(Response(status_code=200, headers=headers))
        return _to_connexion(
            api_errors.envelope([(E.UNSUPPORTED, "method not allowed on this route", None)], headers=headers)
        )
    return _to_connexion(
        api_errors.envelope([(E.UNKNOWN, str(getattr(exc, "detail", "")), None)], status=status)
    )


def _cut_short(_request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
    return _to_connexion(body_cut_short())  # the body ended before its length, or timed out


def _unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    return _to_connexion(api_errors.unknown_error(exc, request_id() or uuid.uuid4().hex))


def _body_validators(offload: Offload) -> dict[str, Any]:
    """connexion's request body validators, with JSON bodies parsed and schema-checked through ``offload``
    (a worker thread for large ones: a manifest's validation costs ~45 µs per descriptor)."""

    class OffloadedJSONBody(JSONRequestBodyValidator):  # type: ignore[misc]
        async def _parse(self, stream: AsyncIterator[bytes], scope: Any) -> Any:
            raw = b"".join([chunk async for chunk in stream])
            if MANIFEST_DOCUMENT in scope:
                # A manifest PUT: parsed within its bounds by ManifestSizeLimit, and validated by the
                # handler against its media type's own schema (parse_manifest, stricter than this oneOf).
                return scope[MANIFEST_DOCUMENT]
            return await offload.sized(len(raw), self._load_and_validate, raw)

        def _load_and_validate(self, raw: bytes) -> Any:
            text = raw.decode(self._encoding)
            if not text:
                return None
            try:
                body = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadRequestProblem(detail=str(exc)) from exc
            JSONRequestBodyValidator._validate(self, body)
            return body

        def _validate(self, body: Any) -> dict[str, Any] | None:
            if body is None:  # an empty body: refused unless nullable, as connexion does
                return JSONRequestBodyValidator._validate(self, body)  # type: ignore[no-any-return]
            return None  # validated while parsing

    return {
        "body": MediaTypeDict(
            {
                "*/*json": OffloadedJSONBody,
                "application/x-www-form-urlencoded": FormDataValidator,
                "multipart/form-data": MultiPartFormDataValidator,
            }
        )
    }


def load_specification() -> dict[str, Any]:
    """generated/openapi.yaml as the framework reads it (from its JSON form, generated/openapi.json).

    connexion 3.3 validates documents against OpenAPI 3.0 only. The generated document is 3.1 but
    written in the subset the two versions share, so it is handed over with its version label
    changed and nothing else.
    """
    document: dict[str, Any] = json.loads((SPEC_DIR / SPEC_FILE).read_bytes())
    document["openapi"] = FRAMEWORK_OPENAPI_VERSION
    return document


def _lifespan(state: AppState) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """Background work for as long as the application runs (upload purging, online GC, notification senders)."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(purge_forever(state))] if state.purge is not None else []
        if state.gc is not None:
            tasks.append(asyncio.create_task(collect_forever(state)))
        if state.notifier is not None:
            tasks.append(asyncio.create_task(state.notifier.run()))
        if state.proxy is not None:
            tasks.append(asyncio.create_task(state.proxy.expire_forever(state)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()

    return lifespan


@contextmanager
def _spec_checked(check: bool) -> Iterator[None]:
    """connexion re-validates the whole document against the OpenAPI schema on every start (a third of a
    worker's start-up). The document was validated when rendered and the test suite validates it through
    connexion; a production worker (``check=False``) trusts it."""
    if check:
        yield
        return
    original = OpenAPISpecification._validate_spec
    OpenAPISpecification._validate_spec = classmethod(lambda cls, spec: None)  # type: ignore[assignment]
    try:
        yield
    finally:
        OpenAPISpecification._validate_spec = original  # type: ignore[method-assign]


def _middlewares() -> list[Any]:
    """connexion's stack without its Swagger UI and spec routes (the web UI serves both, under /ui/api/):
    one router fewer on every request, and Jinja's templates never made. A new list for every app:
    connexion inserts the app's own middlewares into the list it is given."""
    return [m for m in ConnexionMiddleware.default_middlewares if m is not SwaggerUIMiddleware]


def create_app(
    state: AppState, *, validate_responses: bool = False, fast_path: bool = True, check_spec: bool = True
) -> ASGIApp:
    """The registry ASGI application over ``state``, its framework built at once (``stack.compose``).

    Response validation is for tests; ``fast_path`` sends the operations the descriptor marks ``fast``
    straight to their handlers (``registry_impl.api.fastpath``; response validation sees only the others);
    ``check_spec=False`` (production workers) skips connexion's re-validation of the document.
    """
    framework = create_framework(state, validate_responses=validate_responses, check_spec=check_spec)
    return compose(state, framework, fast_path=fast_path)


def create_framework(state: AppState, *, validate_responses: bool = False, check_spec: bool = True) -> ASGIApp:
    """The connexion app serving every operation (those the fast path takes too), with the registry's
    middlewares and error handlers, and the background work of ``state`` as its lifespan."""
    app = connexion.AsyncApp(
        __name__,
        lifespan=_lifespan(state),
        middlewares=_middlewares(),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),  # should it come back
        validator_map=_body_validators(state.offload),
    )
    with _spec_checked(check_spec):
        app.add_api(
            load_specification(),
            resolver=Resolver(handler_for),
            validate_responses=validate_responses,
            strict_validation=False,
        )
    app.add_middleware(ContextMiddleware, position=MiddlewarePosition.BEFORE_CONTEXT, state=state)
    app.add_middleware(RoutedScopeMiddleware, position=MiddlewarePosition.BEFORE_VALIDATION)
    app.add_middleware(WriteGate, position=MiddlewarePosition.BEFORE_VALIDATION, state=state)
    app.add_middleware(ManifestSizeLimit, position=MiddlewarePosition.BEFORE_VALIDATION, state=state)
    app.add_middleware(
        HeadersMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, extra=state.extra_headers
    )
    app.add_error_handler(D.RegistryError, _domain_error)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(HTTPException, _http_error)
    app.add_error_handler(404, _http_error)
    app.add_error_handler(405, _http_error)
    app.add_error_handler(ClientDisconnect, _cut_short)
    app.add_error_handler(Exception, _unexpected)
    # Each request the framework sees owns its extensions (the fast path writes none).
    return OwnExtensions(app)


def operation_ids() -> list[str]:
    """Every operationId of the bound specification (for the binding test)."""
    document = load_specification()
    return [op["operationId"] for item in document["paths"].values() for op in item.values()]
