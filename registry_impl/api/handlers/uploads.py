"""Blob uploads: POST (session, monolithic, mount), and the session's GET, PATCH, PUT and DELETE
(``registry_impl.services.uploads``).

Bodies are handed to the service as the request's byte stream; handlers declare no body parameter, so
the framework never buffers them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from registry_spec import urls
from starlette.responses import Response

from registry_impl.api.context import RequestContext, current
from registry_impl.api.headers import format_range, parse_content_range
from registry_impl.api.locations import STATE_PARAM, absolute, upload_location
from registry_impl.api.query import query_of
from registry_impl.errors import RangeInvalid
from registry_impl.services import uploads
from registry_impl.storage.blobs import BlobInfo
from registry_impl.storage.uploads import UploadStatus


def _session(ctx: RequestContext, name: str, status: UploadStatus, code: int) -> Response:
    headers = {
        "Location": upload_location(ctx, name, status.uuid),
        "Range": format_range(status.size),
        "Docker-Upload-UUID": status.uuid,
        "Content-Length": "0",
    }
    return Response(status_code=code, headers=headers)


def _created(ctx: RequestContext, name: str, info: BlobInfo) -> Response:
    headers = {"Location": absolute(ctx, urls.blob(name, info.digest)), "Docker-Content-Digest": info.digest}
    return Response(status_code=201, headers=headers)


def _chunk(ctx: RequestContext) -> uploads.Chunk:
    """The body as a stream, with its Content-Range parsed (a bad one is judged by the service, which knows
    where the session ends)."""
    headers = ctx.request.headers
    try:
        bounds, refused = parse_content_range(headers.get("content-range")), None
    except RangeInvalid as exc:
        bounds, refused = None, exc
    return uploads.Chunk(ctx.request.stream(), bounds, refused, headers.get("content-length"))


def _token(ctx: RequestContext) -> str | None:
    return ctx.request.query_params.get(STATE_PARAM)


@contextmanager
def _tells_where_it_ends(ctx: RequestContext, name: str) -> Iterator[None]:
    """A refused chunk's answer carries the session's Location and the Range it holds."""
    try:
        yield
    except uploads.ChunkRefused as exc:
        exc.headers = {"Location": upload_location(ctx, name, exc.uuid), "Range": format_range(exc.size)}
        raise


async def start_upload(name: str) -> Response:
    ctx = current()
    query = query_of(ctx.request.scope)
    started = await uploads.start(
        ctx.state,
        name,
        mount=query.get("mount"),
        source=query.get("from"),
        digest=query.get("digest"),
        chunk=_chunk(ctx),
    )
    if isinstance(started, BlobInfo):
        return _created(ctx, name, started)
    return _session(ctx, name, started, 202)


async def upload_status(name: str, uuid: str) -> Response:
    ctx = current()
    status = await uploads.status(ctx.state, name, uuid, _token(ctx))
    return _session(ctx, name, status, 204)


async def patch_upload(name: str, uuid: str) -> Response:
    ctx = current()
    with _tells_where_it_ends(ctx, name):
        status = await uploads.append(ctx.state, name, uuid, _token(ctx), _chunk(ctx))
    return _session(ctx, name, status, 202)


async def complete_upload(name: str, uuid: str) -> Response:
    ctx = current()
    digest = query_of(ctx.request.scope).get("digest", "")
    with _tells_where_it_ends(ctx, name):
        info = await uploads.complete(ctx.state, name, uuid, _token(ctx), digest, _chunk(ctx))
    return _created(ctx, name, info)


async def cancel_upload(name: str, uuid: str) -> Response:
    ctx = current()
    await uploads.cancel(ctx.state, name, uuid, _token(ctx))
    return Response(status_code=204, headers={"Content-Length": "0"})
