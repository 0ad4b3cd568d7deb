"""/v2/<name>/blobs/<digest>: GET (streamed, Range), HEAD, DELETE (storage through the request's ``Offload``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO

from starlette.responses import RedirectResponse, Response, StreamingResponse

from registry_impl.api.context import RequestContext, current
from registry_impl.api.headers import etag_matches, format_content_range, format_etag, parse_range
from registry_impl.api.offload import Offload
from registry_impl.digests import parse_digest

CHUNK = 1 << 20


async def _stream(reader: BinaryIO, remaining: int, offload: Offload) -> AsyncIterator[bytes]:
    """Each read is a storage call: inline from local storage (fastest), in a worker thread from remote storage."""
    try:
        while remaining > 0:
            chunk = await offload.storage(reader.read, min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        await offload.shielded(reader.close)


def fetch(ctx: RequestContext, name: str, digest: str, with_body: bool) -> Response:
    registry = ctx.state.registry
    info = registry.repository(name).blobs.stat(str(parse_digest(digest)))
    headers = {
        "Docker-Content-Digest": info.digest,
        "ETag": format_etag(info.digest),
        "Accept-Ranges": "bytes",
    }
    if ctx.state.redirect_blobs:
        url = registry.blobs.redirect_url(info, ctx.request.method)
        if url is not None:
            return RedirectResponse(url, status_code=307, headers={"Docker-Content-Digest": info.digest})
    if etag_matches(ctx.request.headers.get("if-none-match"), info.digest):
        return Response(status_code=304, headers=headers)
    wanted = parse_range(ctx.request.headers.get("range"), info.size)
    start, end, status = 0, info.size - 1, 200
    if wanted is not None:
        start, end, status = wanted[0], wanted[1], 206
        headers["Content-Range"] = format_content_range(start, end, info.size)
    length = end - start + 1 if info.size else 0
    headers["Content-Length"] = str(length)
    if not with_body:
        return Response(status_code=status, headers=headers, media_type="application/octet-stream")
    reader = registry.blobs.open(info, start)
    return StreamingResponse(
        _stream(reader, length, ctx.state.offload),
        status_code=status,
        headers=headers,
        media_type="application/octet-stream",
    )


async def get_blob(name: str, digest: str) -> Response:
    ctx = current()
    return await ctx.state.offload.storage(fetch, ctx, name, digest, True)


async def head_blob(name: str, digest: str) -> Response:
    ctx = current()
    return await ctx.state.offload.storage(fetch, ctx, name, digest, False)


async def delete_blob(name: str, digest: str) -> Response:
    ctx = current()
    ctx.state.registry.require_delete()
    parsed = str(parse_digest(digest))
    await ctx.state.offload.storage(ctx.state.registry.repository(name).blobs.delete, parsed)
    return Response(status_code=202, headers={"Docker-Content-Digest": parsed})
