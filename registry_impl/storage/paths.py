"""Where registry objects live in a storage driver: distribution's on-disk layout as pure functions.

The layout (``<alg>/<hex>`` is a digest split at its ``:``; ``<hex[:2]>`` its first two hex characters)::

    /docker/registry/v2/
    ├── _claims/<name>/_<kind>/<key>          OUR addition: who holds an upload session (_uploads/<uuid>), a
    │                                         tag (_tags/<tag>) or a revision (_manifests/<alg>/<hex>) now
    ├── _claims/_blobs/<alg>/<hex>            OUR addition: online GC and a writer adopting that blob
    ├── _claims/_gc                           OUR addition: the one online GC run in progress
    ├── _claims/_events/<endpoint>            OUR addition: the sender delivering one notification endpoint
    ├── _events/<endpoint>/                   OUR addition: that endpoint's notification outbox
    │   ├── <ns time>-<instance>              one request's events (an envelope), until the endpoint took it
    │   └── status                            the last delivery's outcome
    ├── blobs/<alg>/<hex[:2]>/<hex>/
    │   └── data                              the blob's bytes (content-addressed, shared by all repositories)
    └── repositories/<name>/                  <name> may contain "/" (library/ubuntu)
        ├── _layers/<alg>/<hex>/
        │   └── link                          "<alg>:<hex>": the blob is linked into this repository
        ├── _manifests/
        │   ├── revisions/<alg>/<hex>/
        │   │   └── link                      the manifest (stored as a blob) is in this repository
        │   └── tags/<tag>/
        │       ├── current/
        │       │   └── link                  digest of the manifest the tag points to
        │       └── index/<alg>/<hex>/
        │           └── link                  every manifest the tag ever pointed to
        ├── _uploads/<uuid>/
        │   ├── data                          bytes received so far
        │   ├── startedat                     RFC 3339 time the upload began
        │   └── hashstates/<alg>/<offset>     saved hash state at a byte offset (resumable digests)
        └── _referrers/<alg>/<subject hex>/   OUR addition for the OCI referrers API: distribution ignores it
            └── <alg>/<hex>/
                └── link                      a manifest whose ``subject`` is the subject digest

Digest algorithms map to directories as in distribution (``+``, ``.`` and ``;`` become ``/``), so sha256 and
sha512 give ``sha256/...`` and ``sha512/...``. Names, tags and upload ids are not validated here: callers do
that. A digest without ``:`` (or with an empty algorithm or hex part) raises ValueError.
"""

from __future__ import annotations

__all__ = [
    "ROOT",
    "blob_claim_path",
    "blob_data_path",
    "blob_path",
    "blobs_root",
    "claim_path",
    "gc_claim_path",
    "layer_link_path",
    "layers_root",
    "manifest_revision_link_path",
    "manifest_revision_path",
    "manifest_revisions_root",
    "outbox_claim_path",
    "outbox_root",
    "referrer_link_path",
    "referrers_root",
    "repositories_root",
    "repository_root",
    "tag_current_link_path",
    "tag_index_entry_path",
    "tag_index_link_path",
    "tag_index_root",
    "tag_root",
    "tags_root",
    "upload_data_path",
    "upload_hashstate_path",
    "upload_hashstates_root",
    "upload_root",
    "upload_started_at_path",
    "uploads_root",
]

ROOT = "/docker/registry/v2"


def _digest_parts(digest: str) -> tuple[str, str]:
    """``alg:hex`` → (algorithm directory, hex); distribution turns ``+ . ;`` in the algorithm into ``/``."""
    alg, sep, hex_ = digest.partition(":")
    if not sep or not alg or not hex_:
        raise ValueError(f"not a digest (want <algorithm>:<hex>): {digest!r}")
    return alg.replace("+", "/").replace(".", "/").replace(";", "/"), hex_


def _digest_dir(digest: str) -> str:
    alg, hex_ = _digest_parts(digest)
    return f"{alg}/{hex_}"


# ---- blob store ----


def blobs_root() -> str:
    return f"{ROOT}/blobs"


def blob_path(digest: str) -> str:
    """The directory of one blob (delete this to remove the blob)."""
    alg, hex_ = _digest_parts(digest)
    return f"{blobs_root()}/{alg}/{hex_[:2]}/{hex_}"


def blob_data_path(digest: str) -> str:
    return f"{blob_path(digest)}/data"


# ---- repositories ----


def repositories_root() -> str:
    return f"{ROOT}/repositories"


def repository_root(name: str) -> str:
    return f"{repositories_root()}/{name}"


def layers_root(name: str) -> str:
    return f"{repository_root(name)}/_layers"


def layer_link_path(name: str, digest: str) -> str:
    return f"{layers_root(name)}/{_digest_dir(digest)}/link"


# ---- manifests and tags ----


def manifest_revisions_root(name: str) -> str:
    return f"{repository_root(name)}/_manifests/revisions"


def manifest_revision_path(name: str, digest: str) -> str:
    return f"{manifest_revisions_root(name)}/{_digest_dir(digest)}"


def manifest_revision_link_path(name: str, digest: str) -> str:
    return f"{manifest_revision_path(name, digest)}/link"


def tags_root(name: str) -> str:
    return f"{repository_root(name)}/_manifests/tags"


def tag_root(name: str, tag: str) -> str:
    return f"{tags_root(name)}/{tag}"


def tag_current_link_path(name: str, tag: str) -> str:
    return f"{tag_root(name, tag)}/current/link"


def tag_index_root(name: str, tag: str) -> str:
    return f"{tag_root(name, tag)}/index"


def tag_index_entry_path(name: str, tag: str, digest: str) -> str:
    return f"{tag_index_root(name, tag)}/{_digest_dir(digest)}"


def tag_index_link_path(name: str, tag: str, digest: str) -> str:
    return f"{tag_index_entry_path(name, tag, digest)}/link"


# ---- uploads ----


def uploads_root(name: str) -> str:
    return f"{repository_root(name)}/_uploads"


def upload_root(name: str, uuid: str) -> str:
    return f"{uploads_root(name)}/{uuid}"


def upload_data_path(name: str, uuid: str) -> str:
    return f"{upload_root(name, uuid)}/data"


def upload_started_at_path(name: str, uuid: str) -> str:
    return f"{upload_root(name, uuid)}/startedat"


def upload_hashstates_root(name: str, uuid: str, alg: str) -> str:
    """The directory listing every saved hash state of ``alg`` for an upload."""
    return f"{upload_root(name, uuid)}/hashstates/{alg}"


def upload_hashstate_path(name: str, uuid: str, alg: str, offset: int) -> str:
    return f"{upload_hashstates_root(name, uuid, alg)}/{offset}"


# ---- claims (not in distribution) ----


def claim_path(kind: str, name: str, key: str) -> str:
    """The claim on ``key`` of kind ``uploads`` (a uuid), ``tags`` (a tag) or ``manifests`` (a digest).

    The kind is a ``_``-prefixed component, which no repository name component can be, so the claims of
    ``a`` and of ``a/b`` never collide."""
    if kind == "manifests":
        key = _digest_dir(key)
    return f"{ROOT}/_claims/{name}/_{kind}/{key}"


def blob_claim_path(digest: str) -> str:
    """The registry-wide claim on one blob that online GC and the writers adopting it take (``_blobs`` is no
    repository name, which never starts with ``_``)."""
    return f"{ROOT}/_claims/_blobs/{_digest_dir(digest)}"


def gc_claim_path() -> str:
    """Held by the one online garbage collection running against this storage."""
    return f"{ROOT}/_claims/_gc"


def outbox_root(endpoint: str) -> str:
    """A notification endpoint's outbox (``endpoint``: its path-safe key; ``_events`` is no repository)."""
    return f"{ROOT}/_events/{endpoint}"


def outbox_claim_path(endpoint: str) -> str:
    """Held by the one sender delivering that endpoint's outbox."""
    return f"{ROOT}/_claims/_events/{endpoint}"


# ---- referrers (not in distribution) ----


def referrers_root(name: str, subject_digest: str) -> str:
    """The directory of links to every manifest whose ``subject`` is ``subject_digest``."""
    return f"{repository_root(name)}/_referrers/{_digest_dir(subject_digest)}"


def referrer_link_path(name: str, subject_digest: str, referrer_digest: str) -> str:
    return f"{referrers_root(name, subject_digest)}/{_digest_dir(referrer_digest)}/link"
