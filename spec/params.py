"""Grammars, shared parameters, headers and responses that routes reuse by reference."""

from __future__ import annotations

from . import errors as E
from .mediatypes import ERRORS_JSON
from .model import Body, ErrorCode, Param, Response

# --- grammars (OCI distribution-spec "Pulling manifests"; image-spec "Digests") -----------------------
NAME_COMPONENT_PATTERN = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_PATTERN = rf"^{NAME_COMPONENT_PATTERN}(?:/{NAME_COMPONENT_PATTERN})*$"
NAME_MAX_LENGTH = 255
TAG_PATTERN = r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$"
DIGEST_PATTERN = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"
REFERENCE_PATTERN = rf"(?:{TAG_PATTERN})|(?:{DIGEST_PATTERN})"
UUID_PATTERN = r"^[a-zA-Z0-9._=-]+$"
UUID_MAX_LENGTH = 128  # one storage path component; the registry issues 36-character uuid4s
CONTENT_RANGE_PATTERN = r"^(?:bytes[ =])?[0-9]+-[0-9]+(?:/(?:[0-9]+|\*))?$"

# --- manifest bounds (distribution's 4 MiB is the floor; the other two keep a refusal cheap) -----------
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
MANIFEST_MAX_DESCRIPTORS = 10_000  # JSON objects with a `digest` member, wherever they are
MANIFEST_MAX_DEPTH = 32  # nesting of objects and arrays; an image manifest needs 4

# --- path parameters ------------------------------------------------------------------------------
NAME = Param(
    "name",
    "path",
    "Name of the target repository: lowercase path components separated by `/`, at most 255 characters.",
    pattern=NAME_PATTERN,
    format="path",
    max_length=NAME_MAX_LENGTH,
    example="library/ubuntu",
    required=True,
    error=E.NAME_INVALID,
)
REFERENCE = Param(
    "reference",
    "path",
    "Tag or digest of the target manifest.",
    pattern=REFERENCE_PATTERN,
    example="latest",
    required=True,
    error=E.TAG_INVALID,
    error_if=((":", E.DIGEST_INVALID),),  # a reference with a colon is a digest
)
DIGEST = Param(
    "digest",
    "path",
    "Digest of the target blob or manifest, `algorithm:hex`.",
    pattern=DIGEST_PATTERN,
    example="sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    required=True,
    error=E.DIGEST_INVALID,
)
UUID = Param(
    "uuid",
    "path",
    "Identifier of the upload session, opaque to the client; at most 128 characters.",
    pattern=UUID_PATTERN,
    max_length=UUID_MAX_LENGTH,
    example="d7b3b9e2-3b5f-4d5e-9a4b-3f6b1f0f2b1c",
    required=True,
    error=E.BLOB_UPLOAD_INVALID,
)

# --- query parameters -----------------------------------------------------------------------------
# Every query parameter below but ``artifactType`` takes one value: given twice, the request is
# refused (400) with the code its description names, never resolved to the first or the last value.
PAGE_N = Param(
    "n",
    "query",
    "Maximum number of entries to return. Given twice: 400 `PAGINATION_NUMBER_INVALID`.",
    type="integer",
    minimum=0,
    example=100,
    error=E.PAGINATION_NUMBER_INVALID,
)
LAST_TAG = Param(
    "last",
    "query",
    "Return entries after this tag (exclusive). Given twice: 400 `PAGINATION_NUMBER_INVALID`.",
    example="v1.0",
    error=E.PAGINATION_NUMBER_INVALID,
)
LAST_REPO = Param(
    "last",
    "query",
    "Return entries after this repository name (exclusive). Given twice: 400 `PAGINATION_NUMBER_INVALID`.",
    example="library/a",
    error=E.PAGINATION_NUMBER_INVALID,
)
DIGEST_QUERY = Param(
    "digest",
    "query",
    "Digest of the uploaded blob. Given twice: 400 `DIGEST_INVALID`.",
    pattern=DIGEST_PATTERN,
    example="sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    error=E.DIGEST_INVALID,
)
DIGEST_QUERY_REQUIRED = Param(
    DIGEST_QUERY.name,
    "query",
    DIGEST_QUERY.description,
    pattern=DIGEST_PATTERN,
    example=DIGEST_QUERY.example,
    required=True,
    error=DIGEST_QUERY.error,  # absent: DIGEST_INVALID too, as in distribution
)
MOUNT = Param(
    "mount",
    "query",
    "Digest of the blob to mount from another repository. Given twice: 400 `DIGEST_INVALID`.",
    pattern=DIGEST_PATTERN,
    example="sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    error=E.DIGEST_INVALID,
)
# No pattern: a ``from`` that names no valid repository is a mount the registry cannot do, which
# distribution-spec answers with an upload session (202), not an error.
FROM = Param(
    "from",
    "query",
    "Repository to mount the blob from; the blob is looked for there only, and under access control the "
    "client needs `pull` on it. Absent or empty: any repository of the registry when there is no access "
    "control; with an `auth` scheme, an upload session is opened instead (nothing the client may not pull "
    "is linked). A name that is not a valid repository name cannot be mounted from: an upload session is "
    "opened. Given twice: 400 `NAME_INVALID`.",
    example="library/base",
    error=E.NAME_INVALID,
)
ARTIFACT_TYPE = Param(
    "artifactType",
    "query",
    "Only list referrers with this artifact type.",
    example="application/vnd.example+type",
    repeatable=True,
)
TAG_QUERY = Param(
    "tag",
    "query",
    "With a PUT by digest: a tag to point at the manifest, atomically with the others (repeat the parameter "
    "for several tags). A value outside the tag grammar: 400 `TAG_INVALID`.",
    pattern=TAG_PATTERN,
    example="v1.0",
    error=E.TAG_INVALID,
    repeatable=True,
)

# --- request headers ------------------------------------------------------------------------------
AUTHORIZATION = Param(
    "Authorization",
    "header",
    "Credentials: `Basic …` or `Bearer <token>`.",
    example="Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl",
)
HOST = Param(
    "Host",
    "header",
    "Standard HTTP Host header; used to build absolute Location URLs.",
    example="registry.example",
)
ACCEPT_MANIFEST = Param(
    "Accept",
    "header",
    "Manifest media types the client accepts; an unlisted stored type is answered as-is.",
    example="application/vnd.oci.image.manifest.v1+json",
)
IF_NONE_MATCH = Param(
    "If-None-Match",
    "header",
    "ETag (the digest) of a copy the client has; answered 304.",
    example='"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"',
)
RANGE_REQUEST = Param(
    "Range", "header", "Byte range of the blob to return, `bytes=<start>-<end>`.", example="bytes=0-1023"
)
CONTENT_RANGE = Param(
    "Content-Range",
    "header",
    "Inclusive byte range of this chunk within the upload, `<start>-<end>`; must start at the current offset.",
    pattern=CONTENT_RANGE_PATTERN,
    example="0-1023",
    error=E.RANGE_INVALID,
)
CONTENT_LENGTH = Param(
    "Content-Length", "header", "Length of the request body.", type="integer", minimum=0, example=1024
)
CONTENT_TYPE_MANIFEST = Param(
    "Content-Type",
    "header",
    "Media type of the manifest being put.",
    example="application/vnd.oci.image.manifest.v1+json",
    required=True,
)

# --- response headers -----------------------------------------------------------------------------
API_VERSION = Param(
    "Docker-Distribution-API-Version", "header", "Always `registry/2.0`.", example="registry/2.0"
)
H_CONTENT_LENGTH = Param("Content-Length", "header", "Length of the body.", type="integer", example=1024)
H_CONTENT_TYPE = Param("Content-Type", "header", "Media type of the body.", example="application/json")
H_DIGEST = Param(
    "Docker-Content-Digest",
    "header",
    "Digest of the targeted content.",
    example="sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
)
H_ETAG = Param(
    "ETag",
    "header",
    "The digest, quoted.",
    example='"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"',
)
H_LOCATION = Param(
    "Location",
    "header",
    "URL of the created or continued resource.",
    example="/v2/library/ubuntu/blobs/uploads/d7b3b9e2",
)
H_UPLOAD_RANGE = Param(
    "Range", "header", "Bytes received so far, inclusive: `0-<offset-1>`.", example="0-1023"
)
H_UPLOAD_UUID = Param(
    "Docker-Upload-UUID",
    "header",
    "Identifier of the upload session.",
    example="d7b3b9e2-3b5f-4d5e-9a4b-3f6b1f0f2b1c",
)
H_CONTENT_RANGE = Param(
    "Content-Range", "header", "Range of the blob in this partial answer.", example="bytes 0-1023/4096"
)
H_ACCEPT_RANGES = Param("Accept-Ranges", "header", "`bytes`: blob GET honours Range.", example="bytes")
H_LINK = Param(
    "Link",
    "header",
    'RFC 5988 link to the next page: `<url>; rel="next"`.',
    example='</v2/library/ubuntu/tags/list?last=v1&n=1>; rel="next"',
)
H_OCI_SUBJECT = Param(
    "OCI-Subject",
    "header",
    "Digest of the manifest's subject, when it has one.",
    example="sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
)
H_OCI_TAG = Param(
    "OCI-Tag",
    "header",
    "A tag the request's `tag` parameters applied (one header per tag).",
    example="v1.0",
)
H_FILTERS_APPLIED = Param(
    "OCI-Filters-Applied", "header", "Filters applied to the referrers list.", example="artifactType"
)
H_WWW_AUTHENTICATE = Param(
    "WWW-Authenticate",
    "header",
    'The challenge: `Basic realm="…"` or `Bearer realm="…",service="…",scope="repository:NAME:pull"`.',
    example='Bearer realm="https://auth.example/token",service="registry.example"',
)
H_RETRY_AFTER = Param("Retry-After", "header", "Seconds to wait before retrying.", type="integer", example=10)
H_CACHE_CONTROL = Param(
    "Cache-Control", "header", "`no-cache`: the answer is about this moment.", example="no-cache"
)

# --- responses shared by every route --------------------------------------------------------------
ERROR_BODY = Body(
    (ERRORS_JSON,),
    "The registry error envelope.",
    schema_ref="ErrorEnvelope",
    example='{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":{}}]}',
)


def json_error(status: int, description: str, *codes: ErrorCode, headers: tuple[Param, ...] = ()) -> Response:
    """A failure response carrying the error envelope with ``codes``."""
    return Response(status, description, headers=headers, body=ERROR_BODY, error_codes=codes)


UNAUTHORIZED = json_error(
    401, "The client is not authenticated.", E.UNAUTHORIZED, headers=(H_WWW_AUTHENTICATE,)
)
DENIED = json_error(403, "The client may not perform this operation.", E.DENIED)
TOO_MANY_REQUESTS = json_error(
    429, "The client made too many requests.", E.TOOMANYREQUESTS, headers=(H_RETRY_AFTER,)
)
NAME_INVALID = json_error(400, "The repository name is invalid.", E.NAME_INVALID)
NAME_UNKNOWN = json_error(404, "The repository is not known to the registry.", E.NAME_UNKNOWN)
UNSUPPORTED = json_error(
    405, "The operation is disabled on this registry (deletes off, or read-only).", E.UNSUPPORTED
)
SERVER_ERROR = json_error(500, "An unexpected condition on the server.", E.UNKNOWN)
UNAVAILABLE = json_error(503, "A backend is temporarily unavailable.", E.UNAVAILABLE)
# The request limits (``http.limits``), checked before any operation is chosen: any operation can answer them.
# ``registry_impl.api.limits`` and ``registry_impl.uvicorn_protocol`` take their statuses from here.
MALFORMED = json_error(
    400,
    "The request is not well-formed HTTP/1.x: another version, a target that is not an absolute path, or a body"
    " that ended before its declared length.",
    E.UNSUPPORTED,
    E.SIZE_INVALID,
)
NOT_IN_TIME = json_error(
    408,
    "The request head (`http.limits.headertimeout`) or its body (`http.limits.bodytimeout`) did not arrive in time.",
    E.UNSUPPORTED,
    E.SIZE_INVALID,
)
REQUEST_LINE_TOO_LONG = json_error(
    414,
    "The request line is longer than `http.limits.maxrequestline` (8 192 bytes by default).",
    E.UNSUPPORTED,
)
HEADERS_TOO_LARGE = json_error(
    431,
    "More request headers than `http.limits.maxheaders` (100), or more bytes of them than"
    " `http.limits.maxheaderbytes` (64 KiB).",
    E.UNSUPPORTED,
)
#: A manifest over ``MANIFEST_MAX_BYTES``: MANIFEST_INVALID as in distribution, answered 413 (the OCI spec's
#: "413 Payload Too Large"; neither has a code of its own). ``registry_impl.errors`` takes the status from here.
MANIFEST_TOO_LARGE = json_error(
    413, "The manifest is larger than the registry accepts (4 MiB).", E.MANIFEST_INVALID
)
COMMON_FAILURES = (UNAUTHORIZED, DENIED, TOO_MANY_REQUESTS)
# What a request the framework refuses is answered with when neither a parameter nor the operation
# (``Method.rejected``) says otherwise.
REQUEST_INVALID = json_error(400, "The request does not match the operation's description.", E.UNSUPPORTED)
