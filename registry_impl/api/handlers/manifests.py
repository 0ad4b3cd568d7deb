"""/v2/<name>/manifests/<reference>: GET, HEAD, PUT, DELETE by tag or digest (storage and parsing through
the request's ``Offload``)."""

from __future__ import annotations

import contextlib
from functools import partial

from registry_spec import urls
from starlette.responses import Response

from registry_impl.api.claims import claimed
from registry_impl.api.context import RequestContext, current
from registry_impl.api.headers import etag_matches, format_etag
from registry_impl.api.locations import absolute
from registry_impl.digests import Digest, digest_of
from registry_impl.errors import DigestInvalid, ManifestUnknown, TagInvalid
from registry_impl.references import parse_reference
from registry_impl.storage.registry import Repository


def _digest_of(repo: Repository, reference: str) -> str:
    parsed = parse_reference(reference)
    return str(parsed) if isinstance(parsed, Digest) else repo.tags.resolve(parsed)


def fetch(ctx: RequestContext, name: str, reference: str, with_body: bool) -> Response:
    repo = ctx.state.registry.repository(name)
    try:
        digest = _digest_of(repo, reference)
    except (TagInvalid, DigestInvalid) as exc:
        # No manifest can have such a reference: on a read it is simply not there, as in distribution.
        raise ManifestUnknown(detail={"reference": reference}) from exc
    manifest = repo.manifests.get(digest)
    headers = {"Docker-Content-Digest": manifest.digest, "ETag": format_etag(manifest.digest)}
    if etag_matches(ctx.request.headers.get("if-none-match"), manifest.digest):
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(len(manifest.content))
    return Response(manifest.content if with_body else b"", headers=headers, media_type=manifest.media_type)


async def get_manifest(name: str, reference: str) -> Response:
    ctx = current()
    return await ctx.state.offload.storage(fetch, ctx, name, reference, True)


async def head_manifest(name: str, reference: str) -> Response:
    ctx = current()
    return await ctx.state.offload.storage(fetch, ctx, name, reference, False)


async def put_manifest(name: str, reference: str) -> Response:
    """Store and tag a manifest while holding its revision's claim and the tag's: a concurrent delete of
    the same digest cannot unlink the revision between the link and the tag (no tag to nothing)."""
    ctx = current()
    state = ctx.state
    state.registry.require_writable()
    parsed_ref = parse_reference(reference)
    body = await ctx.request.body()
    repo = state.registry.repository(name)
    tag = None if isinstance(parsed_ref, Digest) else parsed_ref
    given = parsed_ref if isinstance(parsed_ref, Digest) else None
    digest = str(given) if given is not None else await state.offload.sized(len(body), digest_of, body)
    content_type = ctx.request.headers.get("content-type", "")
    async with claimed(state, name, ("manifests", digest), ("tags", tag)):
        stored, parsed = await state.offload.sized(
            len(body), repo.manifests.put, body, content_type, tag, given
        )
    headers = {"Location": absolute(ctx, urls.manifest(name, stored)), "Docker-Content-Digest": stored}
    if parsed.subject is not None:
        headers["OCI-Subject"] = parsed.subject.digest
    return Response(status_code=201, headers=headers)


async def delete_manifest(name: str, reference: str) -> Response:
    """By tag: the tag, under its claim. By digest: under the revision's claim (no PUT can point a tag at
    it meanwhile), each tag that points at it, under the tag's claim and only while it still does."""
    ctx = current()
    state = ctx.state
    state.registry.require_delete()
    repo = state.registry.repository(name)
    parsed_ref = parse_reference(reference)
    offload = state.offload
    if not isinstance(parsed_ref, Digest):
        async with claimed(state, name, ("tags", parsed_ref)):
            await offload.storage(repo.tags.untag, parsed_ref)
        return Response(status_code=202)
    digest = str(parsed_ref)
    async with claimed(state, name, ("manifests", digest)):
        manifest = await offload.storage(repo.manifests.get, digest)  # ManifestUnknown before any tag
        for tag in await offload.storage(repo.tags.pointing_at, digest):
            async with claimed(state, name, ("tags", tag)):
                with contextlib.suppress(ManifestUnknown):
                    await offload.storage(partial(repo.tags.untag, tag, only_if=digest))
        await offload.sized(len(manifest.content), repo.manifests.delete, digest)  # parses it
    return Response(status_code=202)
