"""Pull: blobs and manifests (by tag and digest) come back byte for byte; unknown ones are 404 (OCI "Pull")."""

from __future__ import annotations

from registry_spec import urls
from registry_toolkit.validate.checks.context import Context
from registry_toolkit.validate.checks.suite import Suite
from registry_toolkit.validate.content import OCI_INDEX, OCI_MANIFEST, Manifest

suite = Suite("pull", "Pull blobs and manifests")
TAG = "pulltest0"
INDEX_TAG = "pulltest-index"
MISSING_TAG = "validate-missing-tag"


def image(ctx: Context) -> Manifest:
    found: Manifest | None = ctx.store.get("pull.image")
    if found is None:
        found = ctx.content.image(ctx.content.config(), [ctx.content.layer()])
        ctx.store["pull.image"] = found
    return found


@suite.check("setup-blobs", "Push the config and layer blobs to pull", "end-4a", "end-6")
def setup_blobs(ctx: Context) -> None:
    ctx.ensure(*image(ctx).blobs)


@suite.check("setup-manifest", "Push the image manifest under a tag", "end-7")
def setup_manifest(ctx: Context) -> None:
    ctx.require("pull.setup-blobs")
    ctx.push_image(TAG, image(ctx))


@suite.check("setup-index", "Push an image index over the manifest", "end-7")
def setup_index(ctx: Context) -> None:
    ctx.require("pull.setup-manifest")
    index = ctx.content.index([image(ctx)])
    ctx.push_image(INDEX_TAG, index)
    ctx.store["pull.index"] = index


@suite.check("blob-head-missing", "HEAD of an unknown blob is 404", "end-2")
def blob_head_missing(ctx: Context) -> None:
    reply = ctx.request("HEAD", urls.blob(ctx.namespace, ctx.dummy_digest))
    ctx.expect_status(reply, 404)


@suite.check("blob-head", "HEAD of a blob is 200 with its size and digest", "end-2")
def blob_head(ctx: Context) -> None:
    ctx.require("pull.setup-blobs")
    config = image(ctx).blobs[0]
    reply = ctx.request("HEAD", urls.blob(ctx.namespace, config.digest), follow=True)
    ctx.expect_status(reply, 200)
    ctx.expect_optional_header(reply, "Content-Length", str(config.size))
    if not reply.response.history:
        ctx.expect_optional_header(reply, "Docker-Content-Digest", config.digest)


@suite.check("blob-get-missing", "GET of an unknown blob is 404 BLOB_UNKNOWN", "end-2", "code-1")
def blob_get_missing(ctx: Context) -> None:
    ctx.expect_error(ctx.get_blob(ctx.dummy_digest), 404, "BLOB_UNKNOWN")


@suite.check("blob-get", "GET of a blob returns its exact bytes", "end-2")
def blob_get(ctx: Context) -> None:
    ctx.require("pull.setup-blobs")
    for blob in image(ctx).blobs:
        reply = ctx.get_blob(blob.digest)
        ctx.expect_status(reply, 200)
        ctx.expect_body(reply, blob.data, f"blob {blob.digest}")


@suite.check("manifest-head-missing", "HEAD of an unknown tag is 404", "end-3")
def manifest_head_missing(ctx: Context) -> None:
    ctx.expect_status(ctx.get_manifest(MISSING_TAG, OCI_MANIFEST, method="HEAD"), 404)


@suite.check("manifest-head-digest", "HEAD of a manifest by digest is 200 with its digest", "end-3")
def manifest_head_digest(ctx: Context) -> None:
    ctx.require("pull.setup-manifest")
    reply = ctx.get_manifest(image(ctx).digest, OCI_MANIFEST, method="HEAD")
    ctx.expect_status(reply, 200)
    ctx.expect_optional_header(reply, "Docker-Content-Digest", image(ctx).digest)


@suite.check("manifest-head-tag", "HEAD of a manifest by tag is 200 with its digest", "end-3")
def manifest_head_tag(ctx: Context) -> None:
    ctx.require("pull.setup-manifest")
    reply = ctx.get_manifest(TAG, OCI_MANIFEST, method="HEAD")
    ctx.expect_status(reply, 200)
    ctx.expect_optional_header(reply, "Docker-Content-Digest", image(ctx).digest)


@suite.check("manifest-get-missing", "GET of an unknown tag is 404 MANIFEST_UNKNOWN", "end-3", "code-7")
def manifest_get_missing(ctx: Context) -> None:
    ctx.expect_error(ctx.get_manifest(MISSING_TAG, OCI_MANIFEST), 404, "MANIFEST_UNKNOWN")


def _expect_manifest(ctx: Context, reference: str, manifest: Manifest) -> None:
    reply = ctx.get_manifest(reference, manifest.media_type)
    ctx.expect_status(reply, 200)
    ctx.expect_body(reply, manifest.content, f"manifest {reference}")
    ctx.expect_header(reply, "Content-Type", manifest.media_type)
    ctx.expect_optional_header(reply, "Docker-Content-Digest", manifest.digest)


@suite.check(
    "manifest-get-digest", "GET of a manifest by digest returns its exact bytes and media type", "end-3"
)
def manifest_get_digest(ctx: Context) -> None:
    ctx.require("pull.setup-manifest")
    _expect_manifest(ctx, image(ctx).digest, image(ctx))


@suite.check("manifest-get-tag", "GET of a manifest by tag returns its exact bytes and media type", "end-3")
def manifest_get_tag(ctx: Context) -> None:
    ctx.require("pull.setup-manifest")
    _expect_manifest(ctx, TAG, image(ctx))


@suite.check("index-get", "GET of an image index by tag and digest returns its exact bytes", "end-3")
def index_get(ctx: Context) -> None:
    ctx.require("pull.setup-index")
    index: Manifest = ctx.store["pull.index"]
    assert index.media_type == OCI_INDEX
    _expect_manifest(ctx, INDEX_TAG, index)
    _expect_manifest(ctx, index.digest, index)


@suite.check(
    "manifest-malformed-digest",
    "GET of a manifest by a malformed digest is a client error, never a server error",
    "end-3",
    "code-4",
)
def manifest_malformed_digest(ctx: Context) -> None:
    reply = ctx.get_manifest("sha256:totallywrong", OCI_MANIFEST)
    ctx.expect_error(reply, (400, 404), "DIGEST_INVALID", "MANIFEST_UNKNOWN", "MANIFEST_INVALID")


@suite.check(
    "error-envelope-put",
    "A refused manifest PUT answers 400 with the error envelope (or 404)",
    "end-7",
    "code-6",
)
def error_envelope_put(ctx: Context) -> None:
    reply = ctx.request(
        "PUT",
        urls.manifest(ctx.namespace, "sha256:totallywrong"),
        {"Content-Type": OCI_MANIFEST},
        b"blablabla",
    )
    ctx.expect_status(reply, 400, 404)
    if reply.status == 400:
        ctx.expect_error(reply, 400, envelope=True)
