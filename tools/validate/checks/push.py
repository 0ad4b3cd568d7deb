"""Push: upload sessions (streamed, monolithic, chunked), cross-repository mounts and manifest PUTs (OCI "Push")."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from registry_spec import urls
from registry_toolkit.validate.checks.context import OCTET, Context
from registry_toolkit.validate.checks.suite import Suite
from registry_toolkit.validate.content import OCI_MANIFEST, Blob, Manifest
from registry_toolkit.validate.outcome import Skipped
from registry_toolkit.validate.session import Reply, with_query

suite = Suite("push", "Push blobs and manifests")
TAGS = ("test0", "test1", "test2", "test3")
EMPTY_LAYERS_TAG = "emptylayer"
CHUNK = 21  # bytes in the first chunk of the chunked blob (unless the registry asks for more)
#: The largest OCI-Chunk-Min-Length the chunked checks follow (S3 needs 5 MiB parts): a registry asking for
#: more is not pushed to in chunks (the check is skipped, saying why) rather than have the validator make a
#: blob of twice what any header claims.
MAX_CHUNK = 16 << 20


def blob(ctx: Context, key: str, size: int = 42) -> Blob:
    found: Blob | None = ctx.store.get(f"push.{key}")
    if found is None:
        found = ctx.content.blob(size)
        ctx.store[f"push.{key}"] = found
    return found


def image(ctx: Context) -> Manifest:
    found: Manifest | None = ctx.store.get("push.image")
    if found is None:
        found = ctx.content.image(ctx.content.config(), [ctx.content.layer()])
        ctx.store["push.image"] = found
    return found


def path_of(url: str) -> str:
    return urlsplit(url).path


# --- streamed -------------------------------------------------------------------------------------
@suite.check("upload-start", "POST opens an upload session: 202 with a Location", "end-4a")
def upload_start(ctx: Context) -> None:
    reply = ctx.request("POST", urls.upload_start(ctx.namespace))
    ctx.expect_documented(reply, "end-4a", what="opening an upload session")
    ctx.store["push.session"] = reply.location


@suite.check("upload-stream", "PATCH with the blob as a stream (no length) is 202 with a Location", "end-5")
def upload_stream(ctx: Context) -> None:
    ctx.require("push.upload-start")
    data = blob(ctx, "streamed").data
    reply = ctx.request("PATCH", ctx.store["push.session"], OCTET, data, chunked=True)
    ctx.expect_documented(reply, "end-5")
    ctx.store["push.session"] = reply.location
    ctx.expect_optional_header(reply, "Range", f"0-{len(data) - 1}")


@suite.check("upload-stream-complete", "PUT ?digest= closes the session: 201 with a Location", "end-6")
def upload_stream_complete(ctx: Context) -> None:
    ctx.require("push.upload-stream")
    streamed = blob(ctx, "streamed")
    url = with_query(ctx.store["push.session"], digest=streamed.digest)
    reply = ctx.request("PUT", url, {**OCTET, "Content-Length": "0"}, b"")
    ctx.expect_documented(reply, "end-6")
    reply.location  # noqa: B018 - must be present
    ctx.expect_optional_header(reply, "Docker-Content-Digest", streamed.digest)
    ctx.store.setdefault("pushed", set()).add((ctx.namespace, streamed.digest))


@suite.check("uploaded-blob", "The streamed blob reads back byte for byte", "end-2")
def uploaded_blob(ctx: Context) -> None:
    ctx.require("push.upload-stream-complete")
    streamed = blob(ctx, "streamed")
    reply = ctx.get_blob(streamed.digest)
    ctx.expect_status(reply, 200)
    ctx.expect_body(reply, streamed.data, "the streamed blob")


# --- monolithic -----------------------------------------------------------------------------------
@suite.check(
    "monolithic-post",
    "POST ?digest= with the whole blob stores it in one request: 201",
    "end-4b",
    feature="monolithic-post",
)
def monolithic_post(ctx: Context) -> None:
    single = blob(ctx, "single")
    url = with_query(urls.upload_start(ctx.namespace), digest=single.digest)
    reply = ctx.request("POST", url, OCTET, single.data)
    ctx.expect_status(reply, 201, 202)
    reply.location  # noqa: B018 - a 201 names the blob, a 202 the session
    after = ctx.get_blob(single.digest)
    if reply.status == 202:
        ctx.expect_status(after, 404, what="for a blob whose single-request upload opened a session instead")
        ctx.unsupported(
            "monolithic-post", "the registry opened a session (202) instead of storing the blob", reply
        )
    ctx.expect_status(after, 200, what="for the blob stored by the single-request upload")
    ctx.expect_body(after, single.data, "the blob of the single-request upload")


@suite.check(
    "monolithic-put", "POST, then PUT ?digest= with the whole blob: 201, and it reads back", "end-4a", "end-6"
)
def monolithic_put(ctx: Context) -> None:
    config = image(ctx).blobs[0]
    started = ctx.start_upload()
    reply = ctx.request("PUT", with_query(started.location, digest=config.digest), OCTET, config.data)
    ctx.expect_documented(reply, "end-6")
    reply.location  # noqa: B018 - must be present
    ctx.store.setdefault("pushed", set()).add((ctx.namespace, config.digest))
    after = ctx.get_blob(config.digest)
    ctx.expect_status(after, 200)
    ctx.expect_body(after, config.data, "the blob put in one PUT")


# --- chunked --------------------------------------------------------------------------------------
def chunked(ctx: Context, started: Reply) -> tuple[bytes, bytes]:
    """The two chunks of the chunked blob; sized by the registry's OCI-Chunk-Min-Length when it sets one."""
    found: tuple[bytes, bytes] | None = ctx.store.get("push.chunks")
    if found is None:
        size = CHUNK
        minimum = started.header("OCI-Chunk-Min-Length")
        if minimum and minimum.isdigit() and int(minimum) > size:
            size = int(minimum)
            if size > MAX_CHUNK:
                raise Skipped(
                    f"OCI-Chunk-Min-Length {minimum} asks for more than this validator sends ({MAX_CHUNK} B)"
                )
        data = blob(ctx, "chunked", size * 2 - 1).data
        found = (data[:size], data[size:])
        ctx.store["push.chunks"] = found
    return found


def patch(ctx: Context, location: str, data: bytes, start: int) -> Reply:
    headers = {**OCTET, "Content-Length": str(len(data)), "Content-Range": f"{start}-{start + len(data) - 1}"}
    return ctx.request("PATCH", location, headers, data)


@suite.check("chunk-out-of-order", "A chunk that does not start where the upload ends is 416", "end-5")
def chunk_out_of_order(ctx: Context) -> None:
    started = ctx.start_upload()
    first, second = chunked(ctx, started)
    ctx.expect_status(patch(ctx, started.location, second, len(first)), 416, what="for a chunk out of order")


@suite.check("chunk-first", "The first chunk, with its Content-Range: 202 and Range 0-<end>", "end-5")
def chunk_first(ctx: Context) -> None:
    started = ctx.start_upload()
    first, _ = chunked(ctx, started)
    reply = patch(ctx, started.location, first, 0)
    ctx.expect_documented(reply, "end-5")
    ctx.expect_header(reply, "Range", f"0-{len(first) - 1}")
    ctx.store["push.chunk-session"] = reply.location


@suite.check(
    "chunk-retry", "Sending the same chunk again is 416 (it no longer starts where the upload ends)", "end-5"
)
def chunk_retry(ctx: Context) -> None:
    started = ctx.start_upload()
    first, _ = chunked(ctx, started)
    reply = patch(ctx, started.location, first, 0)
    ctx.expect_status(reply, 202, what="for the first chunk")
    ctx.expect_status(patch(ctx, reply.location, first, 0), 416, what="for the same chunk sent again")


@suite.check("upload-status", "GET of the session is 204 with its Location and Range", "end-13")
def upload_status(ctx: Context) -> None:
    ctx.require("push.chunk-first")
    first, _ = ctx.store["push.chunks"]
    reply = ctx.request("GET", ctx.store["push.chunk-session"])
    ctx.expect_documented(reply, "end-13")
    ctx.store["push.chunk-session"] = reply.location
    ctx.expect_header(reply, "Range", f"0-{len(first) - 1}")


@suite.check("chunk-second", "The second chunk is 202 with a Location", "end-5")
def chunk_second(ctx: Context) -> None:
    ctx.require("push.chunk-first")
    first, second = ctx.store["push.chunks"]
    reply = patch(ctx, ctx.store["push.chunk-session"], second, len(first))
    ctx.expect_documented(reply, "end-5")
    ctx.store["push.chunk-session"] = reply.location
    ctx.expect_optional_header(reply, "Range", f"0-{len(first) + len(second) - 1}")


@suite.check("chunk-complete", "PUT ?digest= with no body completes the chunked upload: 201", "end-6")
def chunk_complete(ctx: Context) -> None:
    ctx.require("push.chunk-second")
    data = b"".join(ctx.store["push.chunks"])
    digest = blob(ctx, "chunked").digest
    url = with_query(ctx.store["push.chunk-session"], digest=digest)
    reply = ctx.request("PUT", url, {**OCTET, "Content-Length": "0"}, b"")
    ctx.expect_documented(reply, "end-6")
    reply.location  # noqa: B018 - must be present
    after = ctx.get_blob(digest)
    ctx.expect_status(after, 200)
    ctx.expect_body(after, data, "the chunked blob")


# --- refusals -------------------------------------------------------------------------------------
@suite.check(
    "upload-digest-mismatch",
    "Completing an upload with the wrong digest is 400 DIGEST_INVALID and stores nothing",
    "end-6",
    "code-4",
)
def upload_digest_mismatch(ctx: Context) -> None:
    sent, claimed = ctx.content.blob(), ctx.content.blob()
    started = ctx.start_upload()
    reply = ctx.request("PUT", with_query(started.location, digest=claimed.digest), OCTET, sent.data)
    ctx.expect_error(reply, 400, "DIGEST_INVALID")
    ctx.expect_status(ctx.get_blob(claimed.digest), 404, what="for the digest the mismatched upload claimed")


@suite.check(
    "upload-stream-digest-mismatch",
    "Closing a streamed upload (PATCH, then PUT with no body) under the wrong digest is 400 DIGEST_INVALID",
    "end-6",
    "code-4",
)
def upload_stream_digest_mismatch(ctx: Context) -> None:
    """The closing PUT carries no bytes, so a registry that verifies only the PUT's own body lets this through."""
    ctx.require("push.upload-stream")
    sent, claimed = ctx.content.blob(), ctx.content.blob()
    patched = ctx.request("PATCH", ctx.start_upload().location, OCTET, sent.data, chunked=True)
    ctx.expect_documented(patched, "end-5")
    url = with_query(patched.location, digest=claimed.digest)
    reply = ctx.request("PUT", url, {**OCTET, "Content-Length": "0"}, b"")
    ctx.expect_error(reply, 400, "DIGEST_INVALID")
    ctx.expect_status(ctx.get_blob(claimed.digest), 404, what="for the digest the mismatched upload claimed")


@suite.check(
    "upload-cancel",
    "DELETE cancels a session: 204, then the session is 404 BLOB_UPLOAD_UNKNOWN",
    "end-14",
    "code-3",
)
def upload_cancel(ctx: Context) -> None:
    started = ctx.start_upload()
    ctx.expect_documented(ctx.request("DELETE", started.location), "end-14")
    after = ctx.request("GET", started.location)
    ctx.expect_error(after, 404, "BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID")


@suite.check(
    "upload-unknown", "PATCH of a session that was never opened is 404 BLOB_UPLOAD_UNKNOWN", "end-5", "code-3"
)
def upload_unknown(ctx: Context) -> None:
    url = urls.upload(ctx.namespace, "validate-" + ctx.content.token(24))
    reply = ctx.request("PATCH", url, OCTET, b"x")
    ctx.expect_error(reply, 404, "BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID")


# --- cross-repository mount -----------------------------------------------------------------------
@suite.check(
    "mount-missing", "Mounting an unknown blob opens a session instead: 202 with a Location", "end-11"
)
def mount_missing(ctx: Context) -> None:
    reply = ctx.request("POST", with_query(urls.upload_start(ctx.crossmount), mount=ctx.dummy_digest))
    ctx.expect_status(reply, 202)
    ctx.expect(
        path_of(reply.location).startswith(urls.upload_start(ctx.crossmount)),
        f"the session Location {reply.location} is not under {urls.upload_start(ctx.crossmount)}",
        reply,
    )


@suite.check(
    "mount-from", "Mounting a blob from another repository: 201 (and it reads back) or 202", "end-11"
)
def mount_from(ctx: Context) -> None:
    ctx.require("push.upload-stream-complete")
    streamed = blob(ctx, "streamed")
    url = with_query(urls.upload_start(ctx.crossmount), mount=streamed.digest, **{"from": ctx.namespace})
    reply = ctx.request("POST", url)
    ctx.expect_documented(reply, "end-11")
    if reply.status == 202:
        prefix = urls.upload_start(ctx.crossmount)
        ctx.expect(path_of(reply.location).startswith(prefix), f"the session is not under {prefix}", reply)
        return
    expected = urls.blob(ctx.crossmount, streamed.digest)
    ctx.expect(path_of(reply.location) == expected, f"Location {reply.location}, expected {expected}", reply)
    after = ctx.get_blob(streamed.digest, ctx.crossmount)
    ctx.expect_status(after, 200)
    ctx.expect_body(after, streamed.data, "the mounted blob")


@suite.check(
    "mount-without-from",
    "Mounting without `from` finds the blob in any repository: 201",
    "end-11",
    feature="mount-without-from",
)
def mount_without_from(ctx: Context) -> None:
    elsewhere = ctx.content.blob()
    ctx.upload(elsewhere, ctx.crossmount)
    reply = ctx.request("POST", with_query(urls.upload_start(ctx.namespace), mount=elsewhere.digest))
    ctx.expect_status(reply, 201, 202)
    if reply.status == 202:
        ctx.unsupported("mount-without-from", "a mount without `from` opened a session (202)", reply)
    after = ctx.get_blob(elsewhere.digest)
    ctx.expect_status(after, 200)
    ctx.expect_body(after, elsewhere.data, "the blob mounted without `from`")


# --- manifests ------------------------------------------------------------------------------------
@suite.check("manifest-put", "PUT of a manifest under four tags: 201 with a Location each time", "end-7")
def manifest_put(ctx: Context) -> None:
    manifest = image(ctx)
    ctx.ensure(*manifest.blobs)
    for tag in TAGS:
        reply = ctx.put_manifest(tag, manifest)
        ctx.expect_documented(reply, "end-7", what=f"for tag {tag}")
        reply.location  # noqa: B018 - must be present
        ctx.expect_optional_header(reply, "Docker-Content-Digest", manifest.digest)


@suite.check("manifest-get", "The manifest reads back by digest, byte for byte", "end-3")
def manifest_get(ctx: Context) -> None:
    ctx.require("push.manifest-put")
    manifest = image(ctx)
    reply = ctx.get_manifest(manifest.digest, OCI_MANIFEST)
    ctx.expect_status(reply, 200)
    ctx.expect_body(reply, manifest.content, "the manifest")


@suite.check("manifest-put-digest", "PUT of a manifest by its digest: 201", "end-7")
def manifest_put_digest(ctx: Context) -> None:
    manifest = ctx.content.image(image(ctx).blobs[0], [], annotations={"by": "digest"})
    ctx.ensure(*manifest.blobs)
    ctx.expect_documented(ctx.put_manifest(manifest.digest, manifest), "end-7")


@suite.check(
    "manifest-put-wrong-digest",
    "PUT of a manifest under a digest its bytes do not have is 400 DIGEST_INVALID and stores nothing",
    "end-7",
    "code-4",
)
def manifest_put_wrong_digest(ctx: Context) -> None:
    manifest = ctx.content.image(image(ctx).blobs[0], [], annotations={"by": "wrong-digest"})
    ctx.ensure(*manifest.blobs)
    claimed = ctx.content.blob().digest
    ctx.expect_error(ctx.put_manifest(claimed, manifest), 400, "DIGEST_INVALID")
    after = ctx.get_manifest(claimed, OCI_MANIFEST)
    ctx.expect_status(after, 404, what="for the digest the mismatched manifest claimed")


@suite.check(
    "manifest-tag-params",
    "PUT by digest with ?tag=a&tag=b: 201, an OCI-Tag for each, both tags read back",
    "end-7",
    feature="tag-params",
)
def manifest_tag_params(ctx: Context) -> None:
    """The redesigned OCI suite's tag-param data (OCI distribution-spec 1.2): tags applied with the push."""
    manifest = ctx.content.image(image(ctx).blobs[0], [], annotations={"by": "tag-params"})
    ctx.ensure(*manifest.blobs)
    tags = (f"tag-param-{ctx.content.token(6).lower()}", f"tag-param-{ctx.content.token(6).lower()}")
    path = urls.manifest(ctx.namespace, manifest.digest, tags)
    reply = ctx.request("PUT", path, {"Content-Type": manifest.media_type}, manifest.content)
    ctx.expect_status(reply, 201)
    applied = {t.strip() for value in reply.headers.get_list("OCI-Tag") for t in value.split(",")}
    if not applied:
        ctx.unsupported("tag-params", "the PUT answered no OCI-Tag header (tag parameters ignored)", reply)
    ctx.expect(set(tags) <= applied, f"OCI-Tag lists {sorted(applied)}, expected {sorted(tags)}", reply)
    for tag in tags:
        got = ctx.get_manifest(tag, manifest.media_type)
        ctx.expect_status(got, 200, what=f"for tag {tag}")
        ctx.expect_body(got, manifest.content, f"the manifest under tag {tag}")


@suite.check(
    "manifest-sha512",
    "PUT of a manifest by its sha512 digest: 201, read back by that digest with Docker-Content-Digest",
    "end-7",
    feature="sha512",
)
def manifest_sha512(ctx: Context) -> None:
    manifest = ctx.content.image(image(ctx).blobs[0], [], annotations={"by": "sha512"})
    ctx.ensure(*manifest.blobs)
    digest = "sha512:" + hashlib.sha512(manifest.content).hexdigest()
    reply = ctx.put_manifest(digest, manifest)
    if reply.status in (400, 404, 405):
        ctx.unsupported("sha512", f"a PUT by a sha512 digest was refused ({reply.status})", reply)
    ctx.expect_status(reply, 201)
    got = ctx.get_manifest(digest, manifest.media_type)
    ctx.expect_status(got, 200)
    ctx.expect_body(got, manifest.content, "the manifest under its sha512 digest")
    ctx.expect_optional_header(got, "Docker-Content-Digest", digest)


@suite.check(
    "manifest-sparse",
    "PUT of an image whose layer, and of an index whose child, was never pushed: 201, read back",
    "end-7",
    feature="sparse",
)
def manifest_sparse(ctx: Context) -> None:
    """The redesigned OCI suite's sparse data: a registry may accept them (ours: ``validation.manifests``)."""
    content = ctx.content
    base = image(ctx)
    missing_layer = content.layer()
    sparse_image = content.image(base.blobs[0], [base.blobs[1], missing_layer], annotations={"by": "sparse"})
    ctx.ensure(base.blobs[0], base.blobs[1])
    reply = ctx.put_manifest(sparse_image.digest, sparse_image)
    if reply.status == 400:
        ctx.unsupported("sparse", "an image with a layer never pushed was refused", reply)
    ctx.expect_status(reply, 201, what="for the sparse image")
    absent = content.image(base.blobs[0], [], annotations={"never": "pushed"})
    sparse_index = content.index([sparse_image, absent])
    reply = ctx.put_manifest(sparse_index.digest, sparse_index)
    if reply.status == 400:
        ctx.unsupported("sparse", "an index with a child never pushed was refused", reply)
    ctx.expect_status(reply, 201, what="for the sparse index")
    for manifest in (sparse_image, sparse_index):
        got = ctx.get_manifest(manifest.digest, manifest.media_type)
        ctx.expect_status(got, 200)
        ctx.expect_body(got, manifest.content, f"the sparse manifest {manifest.digest}")


@suite.check(
    "manifest-no-layers",
    "PUT of an image manifest with no layers: 201",
    "end-7",
    feature="empty-layers",
)
def manifest_no_layers(ctx: Context) -> None:
    manifest = ctx.content.image(image(ctx).blobs[0], [])
    ctx.ensure(*manifest.blobs)
    reply = ctx.put_manifest(EMPTY_LAYERS_TAG, manifest)
    if reply.status != 201:
        ctx.unsupported("empty-layers", f"a manifest with no layers was refused ({reply.status})", reply)
    reply.location  # noqa: B018 - must be present


@suite.check(
    "manifest-blob-unknown",
    "PUT of a manifest naming a blob the repository lacks is 400 MANIFEST_BLOB_UNKNOWN",
    "end-7",
    "code-5",
)
def manifest_blob_unknown(ctx: Context) -> None:
    config = image(ctx).blobs[0]
    ctx.ensure(config)
    manifest = ctx.content.image(config, [ctx.content.blob(64, "application/vnd.oci.image.layer.v1.tar")])
    reply = ctx.put_manifest("missing-blob", manifest)
    ctx.expect_error(reply, 400, "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "BLOB_UNKNOWN")


@suite.check(
    "manifest-invalid", "PUT of a body that is no manifest is 400 MANIFEST_INVALID", "end-7", "code-6"
)
def manifest_invalid(ctx: Context) -> None:
    reply = ctx.request(
        "PUT", urls.manifest(ctx.namespace, "invalid"), {"Content-Type": OCI_MANIFEST}, b"blablabla"
    )
    ctx.expect_error(reply, 400, "MANIFEST_INVALID")
