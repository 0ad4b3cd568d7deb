"""Every intended difference between our registry and Debian's docker-registry (distribution 2.8.2).

One place, each with its reason. The differential tests assert both sides of each entry, so an
entry that stops being true (either server changes) fails loudly instead of hiding a regression.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Difference:
    ours: int
    reference: int
    reason: str
    ours_code: str | None = None
    reference_code: str | None = None


INTENDED: dict[str, Difference] = {
    "monolithic-post": Difference(
        201,
        202,
        "OCI end-4b single-request upload; distribution 2.8 opens a session instead and ignores the body.",
    ),
    "tags-n": Difference(
        200, 200, "OCI end-8b: `n` limits the page; distribution 2.8 ignores it on tag lists."
    ),
    "chunk-out-of-order": Difference(
        416,
        202,
        "OCI: a chunk that does not start at the upload's end is 416; distribution 2.8 appends it.",
        ours_code="RANGE_INVALID",
    ),
    "delete-tag": Difference(
        202,
        400,
        "OCI end-9 by tag removes the tag; distribution 2.8 refuses tag deletes.",
        reference_code="DIGEST_INVALID",
    ),
    "blob-delete-digest-header": Difference(
        202,
        202,
        "Blob DELETE answers Docker-Content-Digest as distribution's own API descriptor documents; "
        "distribution 2.8's handler leaves it out.",
    ),
    "referrers": Difference(200, 404, "OCI 1.1 referrers API (end-12); distribution 2.8 has no such route."),
    "range-416-length": Difference(
        416,
        416,
        "A blob Range that cannot be satisfied is 416 on both; distribution 2.8's 416 keeps the blob's "
        "Content-Length over a few bytes of text, so a client reading the body sees the connection cut short.",
    ),
    "invalid-name": Difference(
        400,
        404,
        "An invalid repository name is NAME_INVALID (OCI code-8); distribution 2.8 answers 404 "
        "NAME_UNKNOWN (or a plain-text 404 when its router does not match the name).",
        ours_code="NAME_INVALID",
    ),
    "malformed-digest": Difference(
        404,
        500,
        "A reference no manifest can have (a malformed digest) is simply unknown: 404 MANIFEST_UNKNOWN, which "
        "the OCI check accepts (400 or 404); distribution 2.8 reads it as a tag path and answers 500 UNKNOWN.",
        ours_code="MANIFEST_UNKNOWN",
        reference_code="UNKNOWN",
    ),
}
