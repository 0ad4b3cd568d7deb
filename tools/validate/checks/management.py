"""Content management: deleting tags, manifests and blobs, and what reads see afterwards (OCI "Content Management").

Deletes are optional: a registry that refuses them with 405 (or 400 UNSUPPORTED) ends these checks as
unsupported-optional, unless the run expects them (``--expect deletes``); ``--no-deletes`` skips them untried.
"""

from __future__ import annotations

from registry_spec import urls
from registry_toolkit.validate.checks.context import Context, error_codes
from registry_toolkit.validate.checks.suite import Suite
from registry_toolkit.validate.content import OCI_MANIFEST, Manifest
from registry_toolkit.validate.session import Reply

suite = Suite("management", "Delete tags, manifests and blobs")
TAG = "tagtest0"
DELETES = "deletes"


def image(ctx: Context) -> Manifest:
    found: Manifest | None = ctx.store.get("management.image")
    if found is None:
        found = ctx.content.image(ctx.content.config(), [ctx.content.layer()])
        ctx.store["management.image"] = found
    return found


def refused(ctx: Context, reply: Reply, what: str) -> None:
    """A delete the registry does not offer: 405, or 400 UNSUPPORTED, is unsupported-optional."""
    if reply.status == 405 or (reply.status == 400 and "UNSUPPORTED" in (error_codes(reply) or [])):
        ctx.unsupported(DELETES, f"{what} is refused ({reply.status})", reply)


def tag_count(ctx: Context) -> int:
    reply = ctx.request("GET", urls.tags(ctx.namespace))
    if reply.status == 404 and "NAME_UNKNOWN" in (error_codes(reply) or []):
        return 0
    ctx.expect_status(reply, 200)
    tags = reply.json().get("tags") or []
    return len(tags)


@suite.check("setup", "Push an image under a tag and count the tags", "end-7", "end-8a", feature=DELETES)
def setup(ctx: Context) -> None:
    ctx.push_image(TAG, image(ctx))
    ctx.store["management.tags-before"] = tag_count(ctx)


@suite.check(
    "delete-tag",
    "DELETE of a tag is 202 and the tag is gone (400 UNSUPPORTED or 405 when refused)",
    "end-9",
    feature=DELETES,
)
def delete_tag(ctx: Context) -> None:
    ctx.require("management.setup")
    reply = ctx.request("DELETE", urls.manifest(ctx.namespace, TAG))
    refused(ctx, reply, "deleting a tag")
    if reply.status == 400:
        ctx.fail(f"a refused tag delete must be 400 UNSUPPORTED or 405, got 400 {error_codes(reply)}", reply)
    ctx.expect_documented(reply, "end-9")
    ctx.expect_status(ctx.get_manifest(TAG, OCI_MANIFEST), 404, what="for the deleted tag")


@suite.check("delete-manifest", "DELETE of a manifest by digest is 202", "end-9", feature=DELETES)
def delete_manifest(ctx: Context) -> None:
    ctx.require("management.setup")
    reply = ctx.request("DELETE", urls.manifest(ctx.namespace, image(ctx).digest))
    refused(ctx, reply, "deleting a manifest")
    ctx.expect_documented(reply, "end-9")


@suite.check(
    "deleted-manifest", "The deleted manifest is 404 MANIFEST_UNKNOWN", "end-3", "code-7", feature=DELETES
)
def deleted_manifest(ctx: Context) -> None:
    ctx.require("management.delete-manifest")
    ctx.expect_error(ctx.get_manifest(image(ctx).digest, OCI_MANIFEST), 404, "MANIFEST_UNKNOWN")


@suite.check(
    "tags-after-delete", "The tag list no longer lists the deleted manifest's tag", "end-8a", feature=DELETES
)
def tags_after_delete(ctx: Context) -> None:
    ctx.require("management.delete-manifest")
    before: int = ctx.store["management.tags-before"]
    after = tag_count(ctx)
    ctx.expect(after < before, f"{after} tags after the delete, {before} before")


@suite.check("delete-blob", "DELETE of a blob is 202", "end-10", feature=DELETES)
def delete_blob(ctx: Context) -> None:
    ctx.require("management.setup")
    for blob in image(ctx).blobs:
        reply = ctx.request("DELETE", urls.blob(ctx.namespace, blob.digest))
        refused(ctx, reply, "deleting a blob")
        ctx.expect_documented(reply, "end-10", what=f"deleting blob {blob.digest}")


@suite.check("deleted-blob", "The deleted blob is 404 BLOB_UNKNOWN", "end-2", "code-1", feature=DELETES)
def deleted_blob(ctx: Context) -> None:
    ctx.require("management.delete-blob")
    ctx.expect_error(ctx.get_blob(image(ctx).blobs[0].digest), 404, "BLOB_UNKNOWN")


@suite.check(
    "delete-unknown-manifest",
    "DELETE of an unknown manifest is 404 MANIFEST_UNKNOWN",
    "end-9",
    "code-7",
    feature=DELETES,
)
def delete_unknown_manifest(ctx: Context) -> None:
    reply = ctx.request("DELETE", urls.manifest(ctx.namespace, ctx.dummy_digest))
    refused(ctx, reply, "deleting a manifest")
    ctx.expect_error(reply, 404, "MANIFEST_UNKNOWN")


@suite.check(
    "delete-unknown-blob",
    "DELETE of an unknown blob is 404 BLOB_UNKNOWN",
    "end-10",
    "code-1",
    feature=DELETES,
)
def delete_unknown_blob(ctx: Context) -> None:
    reply = ctx.request("DELETE", urls.blob(ctx.namespace, ctx.dummy_digest))
    refused(ctx, reply, "deleting a blob")
    ctx.expect_error(reply, 404, "BLOB_UNKNOWN")
