"""Blob uploads: open a session (or mount, or take a monolithic body), append a chunk, complete, cancel.

Bodies arrive as async byte iterators, streamed straight into storage and the hasher. A session's close,
its completion (which may re-hash the session and move it into the blob store) and its cancellation (which
may free a large file) always run in a worker thread, and so does opening its writer unless this process
holds the session's hash state, and its start where a durable write waits for a disk; each chunk is
handed to the writer on the event loop (in a thread on remote storage), and the writer writes and hashes
large bodies on a thread of its own. PATCH, PUT and DELETE of a
session hold its claim: one request at a time per session, so exactly one completion wins and no writer
still holds the bytes that become the blob.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial

from registry_impl.digests import Digest, parse_digest
from registry_impl.errors import (
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    NameInvalid,
    NameUnknown,
    RangeInvalid,
    SizeInvalid,
)
from registry_impl.memory import lower_heap_after_upload
from registry_impl.references import validate_name
from registry_impl.services import events
from registry_impl.services.claims import ClaimBusy, claimed
from registry_impl.services.proxied import refuse_proxied
from registry_impl.services.state import State
from registry_impl.storage.blobclaims import BlobBusy
from registry_impl.storage.blobs import BlobInfo
from registry_impl.storage.driver.claims import Claim, ClaimLost
from registry_impl.storage.registry import Repository
from registry_impl.storage.uploads import UploadStatus, UploadWriter

__all__ = ["Chunk", "ChunkRefused", "append", "cancel", "complete", "sign_upload", "start", "status"]


def sign_upload(secret: bytes, name: str, upload_id: str) -> str:
    """A token binding an upload to its repository, verifiable by every replica sharing ``http.secret``."""
    mac = hmac.new(secret, f"{name}\n{upload_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode().rstrip("=")


def _check_token(secret: bytes, name: str, upload_id: str, token: str | None) -> None:
    """Refuse a Location state ``token`` another secret signed (no token: storage decides)."""
    if token is None:
        return
    expected = sign_upload(secret, name, upload_id).encode()
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, then a 500).
    if not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected):
        raise BlobUploadInvalid(
            "upload state token does not verify (is http.secret shared by every replica?)",
            detail={"uuid": upload_id},
        )


@dataclass(frozen=True)
class Chunk:
    """A request body for a session: ``bounds``, the first and last byte its ``Content-Range`` announced
    (``refused``: why that header did not parse, judged once the session's end is known), and its
    ``Content-Length`` as sent."""

    body: AsyncIterator[bytes]
    bounds: tuple[int, int] | None = None
    refused: RangeInvalid | None = None
    content_length: str | None = None


class ChunkRefused(RangeInvalid):
    """A chunk the upload cannot take (out of order, or a bad Content-Range); ``size`` is where the upload
    ends (the handler tells the client, with the session's Location)."""

    def __init__(self, message: str, uuid: str, size: int, detail: dict[str, object]) -> None:
        super().__init__(message, detail=detail)
        self.uuid = uuid
        self.size = size


def _chunk_bounds(chunk: Chunk, status: UploadStatus) -> int | None:
    """The length a Content-Range announces, after checking it starts where the upload ends."""
    if chunk.refused is not None:
        exc = chunk.refused
        detail = {**(exc.detail or {}), "offset": status.size}
        raise ChunkRefused(exc.message, status.uuid, status.size, detail) from exc
    if chunk.bounds is None:
        return None
    start, end = chunk.bounds
    if start != status.size:
        message = "chunk does not start where the upload ends"
        raise ChunkRefused(message, status.uuid, status.size, {"offset": status.size})
    expected = end - start + 1
    declared = chunk.content_length
    if declared is not None and declared.isdigit() and int(declared) != expected:
        raise SizeInvalid(
            "Content-Length does not match Content-Range",
            detail={"contentLength": int(declared), "contentRange": expected},
        )
    return expected


async def _receive(
    state: State,
    repo: Repository,
    status: UploadStatus,
    body: AsyncIterator[bytes],
    expected: int | None,
    claim: Claim | None = None,
    *,
    completing: bool = False,
) -> UploadStatus:
    """Append ``body`` to the upload at ``status`` (read under the claim); returns where it then ends.

    ``claim`` is the session's claim (None only for a session this request itself just opened): it is
    renewed as the body arrives, and a lost claim stops the writing. ``expected``: the length the chunk's
    Content-Range announced; nothing past it is written. A body that turns out shorter or longer (known only
    as it arrives, when no Content-Length announced it) is refused once what it sent within its range is
    stored, as a body cut short is: the chunks acknowledged before it stay, and the session's Range says where
    it now ends. ``completing``: the session is verified next, so no hash state is saved in storage.
    """
    offload, uploads, upload_id = state.offload, repo.uploads, status.uuid
    # Opening is quick when this process holds the hash state; otherwise it may re-hash the session.
    opener = offload.storage if uploads.resumes(upload_id, status.size) else offload.slow
    writer = await opener(uploads.writer, upload_id, status)
    before = writer.size

    def write(chunk: bytes) -> None:
        if claim is not None:
            claim.renew()
        writer.write(chunk)  # large bodies: written and hashed by the writer's own thread

    overran = False
    try:
        async for chunk in body:
            room = None if expected is None else expected - (writer.size - before)
            if room is not None and len(chunk) > room:
                chunk, overran = chunk[:room], True  # the excess is never written
            if chunk:
                await offload.storage(write, chunk)
            if overran:
                break
    except ClaimLost as exc:
        raise ClaimBusy("uploads", repo.name, upload_id) from exc
    finally:
        # A client that went away still gets its bytes kept. Where claims cannot be lost (local storage),
        # the writing thread's end is awaited here, and what remains (flush, sync, the hash state) is
        # quick: inline unless it syncs to a disk. Elsewhere the close waits for that thread itself,
        # after a lost claim has stopped the writes it still holds (``UploadWriter.abandon``).
        close = partial(_close, writer, claim, save_state=not completing)
        if offload.remote:
            closed = await offload.shielded(close, slow=True)
        else:
            await offload.until_called(writer.end_writing)
            closed = await offload.shielded(close, slow=completing, durable=True)
        if not closed:
            raise ClaimBusy("uploads", repo.name, upload_id)
    written = writer.size - before
    if expected is not None and (overran or written != expected):
        longer = "longer" if overran else "shorter"
        raise SizeInvalid(
            f"body {longer} than its Content-Range; the session keeps what arrived within that range",
            detail={"expected": expected, "kept": written, "offset": writer.size},
        )
    return UploadStatus(upload_id, writer.size, status.started_at)


def _close(writer: UploadWriter, claim: Claim | None, *, save_state: bool) -> bool:
    """Close ``writer`` while ``claim`` (None: this request opened the session) is still held (True); else
    another request took the session over, and what this one wrote must not be published over its
    (False: abandoned)."""
    if claim is not None and not claim.still_held():
        writer.abandon()
        return False
    writer.close(save_state=save_state)
    return True


def _commit(repo: Repository, upload_id: str, digest: Digest) -> BlobInfo:
    """Verify the session (re-hashing it when no saved state fits), move it into the blob store, link it."""
    info = repo.uploads.complete(upload_id, digest)
    repo.blobs.link(info.digest)
    lower_heap_after_upload()
    return info


async def _try_mount(state: State, repo: Repository, mount: str, source: str | None) -> BlobInfo | None:
    """The blob once linked from ``source``, None (open a session) when it cannot be.

    Without a source the blob is looked for registry-wide, which only a registry without access
    control does: under an ``auth`` scheme that would link what the client may not pull, so there a
    mount must name its ``from`` (on which authorization required ``pull``) or becomes a session.
    """
    digest = str(parse_digest(mount))
    if source is None and state.access is not None:
        return None
    try:
        if source is not None:
            validate_name(source)
        return await state.offload.claiming(0, partial(repo.mount, digest, source), BlobBusy)
    except (BlobUnknown, NameUnknown, NameInvalid):
        return None


async def start(
    state: State, name: str, *, mount: str | None, source: str | None, digest: str | None, chunk: Chunk
) -> BlobInfo | UploadStatus:
    """POST: the blob mounted from ``source`` (or found registry-wide), else a new session; with a
    ``digest``, the session takes ``chunk`` and is completed at once (the blob), or is cancelled."""
    state.registry.require_writable()
    refuse_proxied(state, name)
    repo = state.registry.repository(name)
    if mount:
        mounted = await _try_mount(state, repo, mount, source or None)
        if mounted is not None:
            await events.blob_mounted(state, name, mounted, source or None)
            return mounted
    expected = parse_digest(digest) if digest is not None else None
    offload = state.offload
    opened = await offload.durable(repo.uploads.start)
    if expected is None:
        return opened
    try:
        await _receive(state, repo, opened, chunk.body, None, completing=True)
    except BaseException:
        with contextlib.suppress(BlobUploadUnknown):
            await offload.shielded(partial(repo.uploads.cancel, opened.uuid), slow=True)
        raise
    info = await offload.slow(_commit, repo, opened.uuid, expected)
    await events.blob_pushed(state, name, info)
    return info


async def status(state: State, name: str, uuid: str, token: str | None) -> UploadStatus:
    """GET: where session ``uuid`` stands (``token``: the Location's signed state, when it had one)."""
    _check_token(state.secret, name, uuid, token)
    return await state.offload.storage(state.registry.repository(name).uploads.status, uuid)


async def append(state: State, name: str, uuid: str, token: str | None, chunk: Chunk) -> UploadStatus:
    """PATCH: append ``chunk`` to session ``uuid`` while holding the session."""
    state.registry.require_writable()
    refuse_proxied(state, name)
    _check_token(state.secret, name, uuid, token)
    repo = state.registry.repository(name)
    repo.uploads.check_id(uuid)
    offload = state.offload
    async with claimed(state, name, ("uploads", uuid)) as (claim,):
        current = await offload.storage(repo.uploads.status, uuid)
        expected = _chunk_bounds(chunk, current)
        return await _receive(state, repo, current, chunk.body, expected, claim)


async def complete(
    state: State, name: str, uuid: str, token: str | None, digest: str, chunk: Chunk
) -> BlobInfo:
    """PUT: the last chunk, verification and the blob's commit (complete, then link), all while holding
    the session: a concurrent PATCH or PUT waits, then finds the session gone (404)."""
    state.registry.require_writable()
    refuse_proxied(state, name)
    _check_token(state.secret, name, uuid, token)
    expected = parse_digest(digest)
    repo = state.registry.repository(name)
    repo.uploads.check_id(uuid)
    offload = state.offload
    async with claimed(state, name, ("uploads", uuid)) as (claim,):
        current = await offload.storage(repo.uploads.status, uuid)
        bounds = _chunk_bounds(chunk, current)
        await _receive(state, repo, current, chunk.body, bounds, claim, completing=True)
        if not await offload.shielded(claim.still_held):
            raise ClaimBusy("uploads", name, uuid)  # the session is another request's now: it completes it
        info = await offload.slow(_commit, repo, uuid, expected)
    await events.blob_pushed(state, name, info)
    return info


async def cancel(state: State, name: str, uuid: str, token: str | None) -> None:
    """DELETE: drop session ``uuid`` while holding it."""
    state.registry.require_writable()
    refuse_proxied(state, name)
    _check_token(state.secret, name, uuid, token)
    uploads = state.registry.repository(name).uploads
    uploads.check_id(uuid)
    async with claimed(state, name, ("uploads", uuid)):
        await state.offload.slow(uploads.cancel, uuid)
