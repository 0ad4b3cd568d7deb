"""Pure ASGI middlewares: response headers on every answer, the read-only gate, the manifest size cap."""

from __future__ import annotations

from collections.abc import Callable

from registry_spec.router import ROUTER
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry_impl.api.context import AppState
from registry_impl.api.errors import API_VERSION_HEADER, error_response
from registry_impl.errors import ManifestInvalid, Unsupported
from registry_impl.manifests import MAX_MANIFEST_SIZE, ManifestTooLarge, load_bounded, precheck_descriptors


class HeadersMiddleware:
    """Adds ``Docker-Distribution-API-Version`` and the configured ``http.headers`` to every response."""

    def __init__(self, app: ASGIApp, extra: dict[str, tuple[str, ...]] | None = None) -> None:
        self.app = app
        pairs = [(API_VERSION_HEADER[0].lower().encode(), API_VERSION_HEADER[1].encode())]
        for name, values in (extra or {}).items():
            pairs += [(name.lower().encode(), value.encode()) for value in values]
        self.pairs = pairs
        self.names = {name for name, _ in pairs}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in self.names]
                message["headers"] = headers + self.pairs
            await send(message)

        await self.app(scope, receive, send_with_headers)


class WriteGate:
    """Read-only registry (``storage.maintenance.readonly``): every write is 405 UNSUPPORTED before
    its body or parameters are looked at, as distribution registers no write handlers then."""

    READS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in self.READS:
            try:
                self.state.registry.require_writable()
            except Unsupported as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


MANIFEST_PUT = ROUTER.operation("manifest", "PUT").operation_id
#: Scope key of a manifest PUT's body as ``ManifestSizeLimit`` parsed it (within the bounds).
MANIFEST_DOCUMENT = "registry.manifest_document"


def _is_manifest_put(scope: Scope) -> bool:
    """Decided by the routed operation, not the path: a repository may be named ``c/manifests``."""
    routing = scope.get("extensions", {}).get("connexion_routing", {})
    return bool(scope["method"] == "PUT" and routing.get("operation_id") == MANIFEST_PUT)


class ManifestSizeLimit:
    """Reads manifest bodies whole, up to the limit, and checks their bounds before validation.

    Over the size limit: 413 MANIFEST_INVALID, without reading further. More descriptors than the cap,
    nested too deep, or not UTF-8 JSON: 400 MANIFEST_INVALID — an obvious excess by a byte scan before any
    parsing, the rest after a parse that runs through the offload boundary (a worker thread for large
    bodies). Otherwise the body is replayed with its ``Content-Length``, so a chunked PUT (no length)
    reaches the framework's body validation, which reads only declared lengths.
    """

    def __init__(
        self,
        app: ASGIApp,
        state: AppState,
        limit: int = MAX_MANIFEST_SIZE,
        applies: Callable[[Scope], bool] = _is_manifest_put,
    ) -> None:
        self.app = app
        self.state = state
        self.limit = limit
        self.applies = applies  # whether a request is a manifest PUT (the fast path knows it already)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(scope):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send, self._too_large(int(value)))
                return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(scope, receive, send, self._too_large(None))
                return
            more = message.get("more_body", False)
        content = bytes(body)
        try:
            precheck_descriptors(content)
            document = await self.state.offload.sized(len(content), load_bounded, content)
        except ManifestInvalid as invalid:
            await self._refuse(scope, receive, send, invalid)
            return
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        replay: list[Message] = [{"type": "http.request", "body": content, "more_body": False}]

        async def replay_receive() -> Message:
            return replay.pop() if replay else await receive()

        await self.app({**scope, "headers": headers, MANIFEST_DOCUMENT: document}, replay_receive, send)

    def _too_large(self, size: int | None) -> ManifestTooLarge:
        detail = {"limit": self.limit} if size is None else {"size": size, "limit": self.limit}
        return ManifestTooLarge("manifest too large", detail=detail)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, exc: ManifestInvalid) -> None:
        await error_response(exc)(scope, receive, send)


class OwnExtensions:
    """Outermost: gives each request its own ``scope["extensions"]``.

    granian (2.8) hands every request of a worker the *same* extensions dict, and connexion's router
    writes the routed operation into it (``extensions["connexion_routing"]``). Two concurrent requests
    then read each other's operation: a manifest PUT validated as an upload completion (400/415). A
    copy per request, one level deep, keeps what the server offers (``http.response.pathsend``) and
    makes what the framework writes private to the request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions")
        if extensions is not None:
            scope = {
                **scope,
                "extensions": {k: dict(v) if isinstance(v, dict) else v for k, v in extensions.items()},
            }
        await self.app(scope, receive, send)


class BareVersionPath:
    """``/v2`` (no trailing slash) is answered as ``/v2/``, the version check, as distribution answers it,
    rather than with the router's 307 redirect (which the redesigned OCI conformance suite notes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == "/v2":
            scope = {**scope, "path": "/v2/", "raw_path": b"/v2/"}
        await self.app(scope, receive, send)
