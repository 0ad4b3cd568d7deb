"""/v2/<name>/manifests/<reference>: GET, HEAD, PUT, DELETE by tag or digest (``registry_impl.services.manifests``)."""

from __future__ import annotations

from registry_spec import urls
from starlette.responses import Response

from registry_impl.api.context import RequestContext, current
from registry_impl.api.headers import etag_matches
from registry_impl.api.locations import absolute
from registry_impl.api.prepared import PreparedResponse
from registry_impl.services import manifests


async def _fetch(ctx: RequestContext, name: str, reference: str, with_body: bool) -> Response:
    manifest = await manifests.fetch(ctx.state, name, reference)
    digest = manifest.digest.encode()
    headers = [(b"docker-content-digest", digest), (b"etag", b'"' + digest + b'"')]
    if etag_matches(ctx.request.headers.get("if-none-match"), manifest.digest):
        return PreparedResponse(304, b"", headers)
    headers += [
        (b"content-length", b"%d" % len(manifest.content)),
        (b"content-type", manifest.media_type.encode("latin-1")),
    ]
    return PreparedResponse(200, manifest.content if with_body else b"", headers)


async def get_manifest(name: str, reference: str) -> Response:
    return await _fetch(current(), name, reference, True)


async def head_manifest(name: str, reference: str) -> Response:
    return await _fetch(current(), name, reference, False)


async def put_manifest(name: str, reference: str) -> Response:
    ctx = current()
    content_type = ctx.request.headers.get("content-type", "")
    tags = ctx.request.query_params.getlist("tag")
    stored = await manifests.put(ctx.state, name, reference, ctx.request.body, content_type, tags)
    location = absolute(ctx, urls.manifest(name, stored.digest))
    headers = {"Location": location, "Docker-Content-Digest": stored.digest}
    if stored.manifest.subject is not None:
        headers["OCI-Subject"] = stored.manifest.subject.digest
    response = Response(status_code=201, headers=headers)
    for tag in stored.tags:
        response.headers.append("OCI-Tag", tag)
    return response


async def delete_manifest(name: str, reference: str) -> Response:
    await manifests.delete(current().state, name, reference)
    return Response(status_code=202)
