"""``http.prefix``: the registry served under a path (``/my/registry/v2/…``), as distribution's router does.

``PathPrefix`` answers 404 outside the prefix and hands the application the path without it; on the way
out it puts the prefix back into the URLs the registry wrote: a ``Location`` whose path starts with
``/v2`` (except a redirect elsewhere: a presigned storage URL keeps its own path) and a pagination
``Link``. Done here, around the application, so no handler needs to know the prefix.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PathPrefix"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class PathPrefix:
    def __init__(self, app: ASGIApp, prefix: str) -> None:
        """``prefix`` as ``HTTPConfig.path_prefix`` gives it: ``/a/b``, no trailing slash."""
        self.app = app
        self.prefix = prefix
        self.raw_prefix = prefix.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/":  # the liveness probe stays at the root, as distribution's ``alive("/")`` does
            await self.app(scope, receive, send)
            return
        if not path.startswith(self.prefix + "/") or path == self.prefix + "/":  # distribution: 404 there too
            await PlainTextResponse("404 page not found\n", status_code=404)(scope, receive, send)
            return
        inner = dict(scope)
        inner["path"] = path[len(self.prefix) :] or "/"
        raw: bytes | None = scope.get("raw_path")
        if raw is not None and raw.startswith(self.raw_prefix):
            inner["raw_path"] = raw[len(self.raw_prefix) :] or b"/"
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")

        async def prefixed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [
                    self._header(name, value, message["status"], host)
                    for name, value in message.get("headers", ())
                ]
            await send(message)

        await self.app(inner, receive, prefixed_send)

    def _header(self, name: bytes, value: bytes, status: int, host: str) -> tuple[bytes, bytes]:
        lowered = name.lower()
        if lowered == b"link" and value.startswith(b"</v2"):
            return name, b"<" + self.raw_prefix + value[1:]
        if lowered != b"location":
            return name, value
        parts = urlsplit(value.decode("latin-1"))
        if not parts.path.startswith("/v2") or (status in _REDIRECTS and parts.netloc not in ("", host)):
            return name, value
        return name, urlunsplit(parts._replace(path=self.prefix + parts.path)).encode("latin-1")
