"""Deliberately faulty registries: ASGI middlewares that break one rule each, around our in-process app.

Each fault is what a third-party implementation might get wrong; the validator must catch every one with
a named check (``tests/interop/test_validate.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]
Rewrite = Callable[[Scope, int, Headers, bytes], tuple[int, Headers, bytes]]
BLOB_PATH = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")
UPLOAD_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/[^/]+$")


class Buffered:
    """Collects each answer whole (status, headers, body) and sends what ``rewrite`` makes of it."""

    def __init__(self, app: ASGIApp, rewrite: Rewrite) -> None:
        self.app = app
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, headers, body = self.rewrite(
                scope, start["status"], list(start.get("headers", [])), b"".join(chunks)
            )
            if scope["method"] != "HEAD" or body:
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})

        await self.app(scope, receive, collect)


def header(headers: Headers, name: bytes) -> bytes | None:
    return next((v for k, v in headers if k.lower() == name), None)


def without(headers: Headers, name: bytes) -> Headers:
    return [(k, v) for k, v in headers if k.lower() != name]


# --- the faults -----------------------------------------------------------------------------------
def drop_digest(scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    """(a) never sends Docker-Content-Digest."""
    return status, without(headers, b"docker-content-digest"), body


def ok_instead_of_created(
    scope: Scope, status: int, headers: Headers, body: bytes
) -> tuple[int, Headers, bytes]:
    """(b) answers 200 where 201 Created or 202 Accepted is due."""
    return (200 if status in (201, 202) else status), headers, body


def wrong_blob_bytes(scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    """(d) serves a blob with its first byte changed."""
    if scope["method"] == "GET" and status == 200 and BLOB_PATH.match(scope["path"]) and body:
        body = bytes([body[0] ^ 0xFF]) + body[1:]
    return status, headers, body


def broken_link(scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    """(e) a pagination Link that leads back to the first page (its `last` dropped)."""
    link = header(headers, b"link")
    if link is not None:
        headers = [*without(headers, b"link"), (b"link", re.sub(rb"last=[^&>]*&?", b"", link))]
    return status, headers, body


def problem_json(scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    """(f) errors as RFC 9457 problem+json instead of the registry error envelope."""
    if status < 400:
        return status, headers, body
    problem = {
        "type": "about:blank",
        "title": "error",
        "status": status,
        "detail": body.decode(errors="replace"),
    }
    headers = [*without(headers, b"content-type"), (b"content-type", b"application/problem+json")]
    return status, headers, json.dumps(problem).encode()


def accept_digest_mismatch(
    scope: Scope, status: int, headers: Headers, body: bytes
) -> tuple[int, Headers, bytes]:
    """(g) completes an upload whose bytes do not match the digest it names."""
    match = UPLOAD_PATH.match(scope["path"])
    if scope["method"] == "PUT" and match and status == 400 and b"DIGEST_INVALID" in body:
        digest = parse_qs(scope["query_string"].decode()).get("digest", [""])[0]
        location = f"/v2/{match['name']}/blobs/{digest}".encode()
        return 201, [(b"location", location), (b"docker-content-digest", digest.encode())], b""
    return status, headers, body


def accept_streamed_digest_mismatch(
    scope: Scope, status: int, headers: Headers, body: bytes
) -> tuple[int, Headers, bytes]:
    """(i) completes a streamed or chunked upload (a closing PUT with no body) under any digest it names."""
    if header(scope["headers"], b"content-length") in (None, b"0"):
        return accept_digest_mismatch(scope, status, headers, body)
    return status, headers, body


MANIFEST_BY_DIGEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<digest>sha256:[0-9a-f]{64})$")


class StoreManifestUnderAnyDigest:
    """(j) a manifest PUT by a digest its bytes do not have is stored (under its real digest) and answered 201
    as if under the digest named."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = MANIFEST_BY_DIGEST.match(scope.get("path", ""))
        if scope["type"] != "http" or scope["method"] != "PUT" or match is None:
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        path = f"/v2/{match['name']}/manifests/{actual}"

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def claim(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 201:
                headers = without(without(message["headers"], b"location"), b"docker-content-digest")
                headers += [
                    (b"location", scope["path"].encode()),
                    (b"docker-content-digest", match["digest"].encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app({**scope, "path": path, "raw_path": path.encode()}, replay, claim)


WRITE_PATH = re.compile(r"^/v2/(?P<name>.+)/(?:blobs|manifests)/")
REFERRERS_PATH = re.compile(r"^/v2/(?P<name>.+)/referrers/[^/]+$")


def referrers_404_without_content(app: ASGIApp) -> ASGIApp:
    """(h) answers 404 NAME_UNKNOWN to the referrers of a repository nothing was written to (this registry's
    answer before the redesigned OCI suite named it)."""
    written: set[str] = set()

    def rewrite(scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        write = WRITE_PATH.match(scope["path"])
        if write and scope["method"] in ("PUT", "POST", "PATCH") and status < 300:
            written.add(write["name"])
        read = REFERRERS_PATH.match(scope["path"])
        if read and read["name"] not in written and status == 200:
            error = {"code": "NAME_UNKNOWN", "message": "repository name not known to registry", "detail": {}}
            headers = [*without(headers, b"content-type"), (b"content-type", b"application/json")]
            return 404, headers, json.dumps({"errors": [error]}).encode()
        return status, headers, body

    return Buffered(app, rewrite)


class IgnoreRange:
    """(c) drops the Range header of every request: blobs always come whole (200)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"range"]}
        await self.app(scope, receive, send)


TAGS_PATH = re.compile(r"^/v2/.+/tags/list$")
#: What the oversized answers below hold: past the validator's bound (``session.MAX_ANSWER``, 64 MiB) with room.
OVERSIZED = 96 << 20


class EndlessTags:
    """(i) answers a tag list with a JSON body that goes on and on (no Content-Length): a validator that
    reads it whole holds all of it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not TAGS_PATH.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        piece = b" " * (1 << 20)
        await send({"type": "http.response.body", "body": b'{"tags": [', "more_body": True})
        for _ in range(OVERSIZED >> 20):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"]}"})


def gzip_bomb(size: int = OVERSIZED) -> bytes:
    """``size`` spaces of JSON whitespace, gzipped to ~1/1000 of that."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    piece = b" " * (1 << 20)
    return b"".join([compressor.compress(piece) for _ in range(size >> 20)]) + compressor.flush()


class CatalogBomb:
    """(j) answers the catalog with ``Content-Encoding: gzip`` over a few KiB that inflate past the bound."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.body = gzip_bomb()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v2/_catalog":
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-encoding", b"gzip"),
            (b"content-length", str(len(self.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


@dataclass(frozen=True)
class Fault:
    """A fault, the middleware that injects it, and the check that must catch it."""

    name: str
    wrap: Callable[[ASGIApp], ASGIApp]
    caught_by: frozenset[str]


def buffered(rewrite: Rewrite) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: Buffered(app, rewrite)


FAULTS = (
    Fault("drops-docker-content-digest", buffered(drop_digest), frozenset({"docker.content-digest"})),
    Fault(
        "200-instead-of-201-202",
        buffered(ok_instead_of_created),
        frozenset({"push.upload-start", "push.monolithic-put", "push.manifest-put"}),
    ),
    Fault("ignores-range", IgnoreRange, frozenset({"docker.blob-range"})),
    Fault("wrong-blob-bytes", buffered(wrong_blob_bytes), frozenset({"pull.blob-get"})),
    Fault(
        "broken-pagination-link",
        buffered(broken_link),
        frozenset({"docker.catalog-link", "discovery.tags-link"}),
    ),
    Fault("problem-json-errors", buffered(problem_json), frozenset({"docker.error-envelope"})),
    Fault(
        "accepts-digest-mismatch",
        buffered(accept_digest_mismatch),
        frozenset({"push.upload-digest-mismatch"}),
    ),
    Fault(
        "accepts-streamed-digest-mismatch",
        buffered(accept_streamed_digest_mismatch),
        frozenset({"push.upload-stream-digest-mismatch"}),
    ),
    Fault(
        "stores-manifest-under-any-digest",
        StoreManifestUnderAnyDigest,
        frozenset({"push.manifest-put-wrong-digest"}),
    ),
    Fault(
        "referrers-404-without-content",
        referrers_404_without_content,
        frozenset({"discovery.referrers-empty-repository"}),
    ),
    Fault("endless-tag-list", EndlessTags, frozenset({"discovery.tags-list"})),
    Fault("catalog-gzip-bomb", CatalogBomb, frozenset({"docker.catalog"})),
)
