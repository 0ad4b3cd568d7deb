"""Pure ASGI middlewares: response headers on every answer, and the manifest size cap."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry_impl.api.errors import API_VERSION_HEADER, error_response
from registry_impl.manifests import MAX_MANIFEST_SIZE, ManifestTooLarge


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


def _is_manifest_put(scope: Scope) -> bool:
    return scope["method"] == "PUT" and "/manifests/" in scope["path"]


class ManifestSizeLimit:
    """Refuses manifest bodies over the limit before anything reads them whole (413 MANIFEST_INVALID)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_MANIFEST_SIZE) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_manifest_put(scope):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send, int(value))
                return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise ManifestTooLarge("manifest too large", detail={"limit": self.limit})
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        exc = ManifestTooLarge("manifest too large", detail={"size": size, "limit": self.limit})
        response = error_response(exc)
        await response(scope, receive, send)
