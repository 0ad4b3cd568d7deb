"""Blob uploads: POST (session, monolithic, mount), and the session's GET, PATCH, PUT and DELETE.

Bodies are streamed straight from the socket into storage and the hasher; handlers declare no
body parameter, so the framework never buffers them. Storage and hashing go through the request's
``Offload``: a session's writer, its close and completion (which may re-hash the session and move it into
the blob store) always in a worker thread, each chunk's write only on remote storage.
"""

from __future__ import annotations

import contextlib
from functools import partial

from registry_spec import urls
from starlette.responses import Response

from registry_impl.api.claims import ClaimBusy, claimed
from registry_impl.api.context import RequestContext, current
from registry_impl.api.headers import format_range, parse_content_range
from registry_impl.api.locations import absolute, upload_location, verify_upload
from registry_impl.api.query import query_of
from registry_impl.digests import Digest, parse_digest
from registry_impl.errors import (
    BlobUnknown,
    BlobUploadUnknown,
    NameInvalid,
    NameUnknown,
    RangeInvalid,
    SizeInvalid,
)
from registry_impl.references import validate_name
from registry_impl.storage.blobs import BlobInfo
from registry_impl.storage.driver.claims import Claim, ClaimLost
from registry_impl.storage.registry import Repository
from registry_impl.storage.uploads import UploadStatus


def _session_headers(ctx: RequestContext, name: str, status: UploadStatus) -> dict[str, str]:
    return {
        "Location": upload_location(ctx, name, status.uuid),
        "Range": format_range(status.size),
        "Docker-Upload-UUID": status.uuid,
        "Content-Length": "0",
    }


def _created(ctx: RequestContext, name: str, info: BlobInfo) -> Response:
    headers = {"Location": absolute(ctx, urls.blob(name, info.digest)), "Docker-Content-Digest": info.digest}
    return Response(status_code=201, headers=headers)


class ChunkRefused(RangeInvalid):
    """A chunk the upload cannot take (out of order, or a bad Content-Range); the answer tells where it ends."""

    def __init__(self, message: str, headers: dict[str, str], detail: dict[str, object]) -> None:
        super().__init__(message, detail=detail)
        self.headers = headers


def _chunk_bounds(ctx: RequestContext, name: str, status: UploadStatus) -> int | None:
    """The length a Content-Range announces, after checking it starts where the upload ends."""
    headers = {"Location": upload_location(ctx, name, status.uuid), "Range": format_range(status.size)}
    try:
        bounds = parse_content_range(ctx.request.headers.get("content-range"))
    except RangeInvalid as exc:
        raise ChunkRefused(exc.message, headers, {**(exc.detail or {}), "offset": status.size}) from exc
    if bounds is None:
        return None
    start, end = bounds
    if start != status.size:
        raise ChunkRefused("chunk does not start where the upload ends", headers, {"offset": status.size})
    expected = end - start + 1
    declared = ctx.request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) != expected:
        raise SizeInvalid(
            "Content-Length does not match Content-Range",
            detail={"contentLength": int(declared), "contentRange": expected},
        )
    return expected


async def _receive(
    ctx: RequestContext, repo: Repository, upload_id: str, expected: int | None, claim: Claim | None = None
) -> int:
    """Append the request body to the upload; returns the bytes written.

    ``claim`` is the session's claim (None only for a session this request itself just opened): it is
    renewed as the body arrives, and a lost claim stops the writing. A body whose length turns out to
    differ from the Content-Range it came with (known only once its bytes are stored, when no
    Content-Length announced it) discards the whole session: the upload cannot be rolled back to where
    the chunk began.
    """
    offload = ctx.state.offload
    writer = await offload.slow(repo.uploads.writer, upload_id)  # may re-hash the session from storage
    before = writer.size

    def write(chunk: bytes) -> None:
        if claim is not None:
            claim.renew()
        writer.write(chunk)

    try:
        async for chunk in ctx.request.stream():
            if chunk:
                await offload.storage(write, chunk)
                if expected is not None and writer.size - before > expected:
                    break
    except ClaimLost as exc:
        raise ClaimBusy("uploads", repo.name, upload_id) from exc
    finally:
        # waits for the hashing thread and saves the hash state; a client that went away still gets its bytes kept
        await offload.shielded(writer.close, slow=True)
    written = writer.size - before
    if expected is not None and written != expected:
        await offload.storage(repo.uploads.cancel, upload_id)
        raise SizeInvalid(
            "body length does not match Content-Range; the upload was discarded",
            detail={"received": written, "expected": expected},
        )
    return written


async def _try_mount(
    ctx: RequestContext, repo: Repository, mount: str, source: str | None
) -> Response | None:
    """201 when the blob is linked from ``source``, None (open a session) when it cannot be.

    Without a source the blob is looked for registry-wide, which only a registry without access
    control does: under an ``auth`` scheme that would link what the client may not pull, so there a
    mount must name its ``from`` (on which authorization required ``pull``) or becomes a session.
    """
    digest = str(parse_digest(mount))
    if source is None and ctx.state.access is not None:
        return None
    try:
        if source is not None:
            validate_name(source)
        return _created(ctx, repo.name, await ctx.state.offload.storage(repo.mount, digest, source))
    except (BlobUnknown, NameUnknown, NameInvalid):
        return None


async def start_upload(name: str) -> Response:
    ctx = current()
    ctx.state.registry.require_writable()
    repo = ctx.state.registry.repository(name)
    query = query_of(ctx.request.scope)
    if query.get("mount"):
        mounted = await _try_mount(ctx, repo, query["mount"], query.get("from") or None)
        if mounted is not None:
            return mounted
    digest = parse_digest(query["digest"]) if "digest" in query else None
    offload = ctx.state.offload
    status = await offload.storage(repo.uploads.start)
    if digest is None:
        return Response(status_code=202, headers=_session_headers(ctx, name, status))
    try:
        await _receive(ctx, repo, status.uuid, None)
    except BaseException:
        with contextlib.suppress(BlobUploadUnknown):
            await offload.shielded(partial(repo.uploads.cancel, status.uuid))
        raise
    info = await offload.slow(_commit, repo, status.uuid, digest)
    return _created(ctx, name, info)


def _commit(repo: Repository, upload_id: str, digest: Digest) -> BlobInfo:
    """Verify the session (re-hashing it when no saved state fits), move it into the blob store, link it."""
    info = repo.uploads.complete(upload_id, digest)
    repo.blobs.link(info.digest)
    return info


async def upload_status(name: str, uuid: str) -> Response:
    ctx = current()
    verify_upload(ctx, name, uuid)
    status = await ctx.state.offload.storage(ctx.state.registry.repository(name).uploads.status, uuid)
    return Response(status_code=204, headers=_session_headers(ctx, name, status))


async def patch_upload(name: str, uuid: str) -> Response:
    ctx = current()
    ctx.state.registry.require_writable()
    verify_upload(ctx, name, uuid)
    repo = ctx.state.registry.repository(name)
    repo.uploads.check_id(uuid)
    offload = ctx.state.offload
    async with claimed(ctx.state, name, ("uploads", uuid)) as (claim,):
        status = await offload.storage(repo.uploads.status, uuid)
        expected = _chunk_bounds(ctx, name, status)
        await _receive(ctx, repo, uuid, expected, claim)
        status = await offload.storage(repo.uploads.status, uuid)
        return Response(status_code=202, headers=_session_headers(ctx, name, status))


async def complete_upload(name: str, uuid: str) -> Response:
    """The last chunk, verification and the blob's commit, all while this request holds the session: a
    concurrent PATCH or PUT waits, then finds the session gone (404), so exactly one completion wins and
    no writer still holds the bytes that become the blob."""
    ctx = current()
    ctx.state.registry.require_writable()
    verify_upload(ctx, name, uuid)
    digest = parse_digest(query_of(ctx.request.scope).get("digest", ""))
    repo = ctx.state.registry.repository(name)
    repo.uploads.check_id(uuid)
    offload = ctx.state.offload
    async with claimed(ctx.state, name, ("uploads", uuid)) as (claim,):
        status = await offload.storage(repo.uploads.status, uuid)
        expected = _chunk_bounds(ctx, name, status)
        await _receive(ctx, repo, uuid, expected, claim)
        info = await offload.slow(_commit, repo, uuid, digest)
    return _created(ctx, name, info)


async def cancel_upload(name: str, uuid: str) -> Response:
    ctx = current()
    ctx.state.registry.require_writable()
    verify_upload(ctx, name, uuid)
    uploads = ctx.state.registry.repository(name).uploads
    uploads.check_id(uuid)
    async with claimed(ctx.state, name, ("uploads", uuid)):
        await ctx.state.offload.storage(uploads.cancel, uuid)
    return Response(status_code=204, headers={"Content-Length": "0"})
