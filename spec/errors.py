"""Every registry error code, registered exactly once.

Where distribution and the OCI spec disagree the choice is written in ``note``:
BLOB_UPLOAD_INVALID is 400 here (the OCI spec's code-2 table answers a bad upload with
400; distribution answers 404, which clients then read as "session gone").
"""

from __future__ import annotations

from .model import ErrorCode

REGISTRY: dict[str, ErrorCode] = {}


def register(code: ErrorCode) -> ErrorCode:
    """Add ``code`` to the registry; a second code with the same value is refused."""
    if code.value in REGISTRY:
        raise ValueError(f"error code {code.value} registered twice")
    REGISTRY[code.value] = code
    return code


UNKNOWN = register(
    ErrorCode(
        "UNKNOWN", "unknown error", "Generic error returned when the error has no more specific code.", 500
    )
)
UNSUPPORTED = register(
    ErrorCode(
        "UNSUPPORTED",
        "The operation is unsupported.",
        "The operation was unsupported due to a missing implementation or invalid set of parameters "
        "(deletes disabled, registry read-only, method not allowed on this route).",
        405,
        "code-13",
    )
)
UNAUTHORIZED = register(
    ErrorCode(
        "UNAUTHORIZED",
        "authentication required",
        "The access controller was unable to authenticate the client. Often this will be accompanied "
        "by a Www-Authenticate HTTP response header indicating how to authenticate.",
        401,
        "code-11",
    )
)
DENIED = register(
    ErrorCode(
        "DENIED",
        "requested access to the resource is denied",
        "The access controller denied access for the operation on a resource.",
        403,
        "code-12",
    )
)
UNAVAILABLE = register(
    ErrorCode(
        "UNAVAILABLE",
        "service unavailable",
        "Returned when a service is not available, for example a storage backend that does not answer.",
        503,
    )
)
TOOMANYREQUESTS = register(
    ErrorCode(
        "TOOMANYREQUESTS",
        "too many requests",
        "Returned when a client attempts to contact a service too many times.",
        429,
        "code-14",
    )
)
DIGEST_INVALID = register(
    ErrorCode(
        "DIGEST_INVALID",
        "provided digest did not match uploaded content",
        "When a blob is uploaded, the registry will check that the content matches the digest provided "
        'by the client. The error may include a detail structure with the key "digest", including the '
        "invalid digest string. This error may also be returned when a manifest includes an invalid "
        "layer digest, or when a digest parameter is malformed.",
        400,
        "code-4",
    )
)
SIZE_INVALID = register(
    ErrorCode(
        "SIZE_INVALID",
        "provided length did not match content length",
        "When a layer is uploaded, the provided size will be checked against the uploaded content. If "
        "they do not match, this error will be returned.",
        400,
        "code-10",
    )
)
RANGE_INVALID = register(
    ErrorCode(
        "RANGE_INVALID",
        "invalid content range",
        "When a layer is uploaded in chunks, the Content-Range of a chunk must start where the upload "
        "ends; a chunk out of order is answered 416 Requested Range Not Satisfiable.",
        416,
        note="distribution appends out-of-order chunks; the OCI spec requires 416, which we follow.",
    )
)
NAME_INVALID = register(
    ErrorCode(
        "NAME_INVALID",
        "invalid repository name",
        "Invalid repository name encountered either during manifest validation or any API operation.",
        400,
        "code-8",
    )
)
TAG_INVALID = register(
    ErrorCode(
        "TAG_INVALID",
        "manifest tag did not match URI",
        "During a manifest upload, if the tag in the manifest does not match the uri tag, or the tag does "
        "not match the tag grammar, this error will be returned.",
        400,
    )
)
NAME_UNKNOWN = register(
    ErrorCode(
        "NAME_UNKNOWN",
        "repository name not known to registry",
        "This is returned if the name used during an operation is unknown to the registry.",
        404,
        "code-9",
    )
)
MANIFEST_UNKNOWN = register(
    ErrorCode(
        "MANIFEST_UNKNOWN",
        "manifest unknown",
        "This error is returned when the manifest, identified by name and tag or digest, is unknown to "
        "the repository.",
        404,
        "code-7",
    )
)
MANIFEST_INVALID = register(
    ErrorCode(
        "MANIFEST_INVALID",
        "manifest invalid",
        "During upload, manifests undergo several checks ensuring validity. If those checks fail, this "
        "error may be returned, unless a more specific error is included. The detail will contain "
        "information the failed validation.",
        400,
        "code-6",
    )
)
MANIFEST_UNVERIFIED = register(
    ErrorCode(
        "MANIFEST_UNVERIFIED",
        "manifest failed signature verification",
        "During manifest upload, if the manifest fails signature verification, this error will be returned.",
        400,
    )
)
MANIFEST_BLOB_UNKNOWN = register(
    ErrorCode(
        "MANIFEST_BLOB_UNKNOWN",
        "blob unknown to registry",
        "This error may be returned when a manifest blob or child manifest is unknown to the registry. "
        "The detail lists every missing digest.",
        400,
        "code-5",
    )
)
BLOB_UNKNOWN = register(
    ErrorCode(
        "BLOB_UNKNOWN",
        "blob unknown to registry",
        "This error may be returned when a blob is unknown to the registry in a specified repository. "
        "This can be returned with a standard get or if a manifest references an unknown layer during "
        "upload.",
        404,
        "code-1",
    )
)
BLOB_UPLOAD_UNKNOWN = register(
    ErrorCode(
        "BLOB_UPLOAD_UNKNOWN",
        "blob upload unknown to registry",
        "If a blob upload has been cancelled or was never started, this error code may be returned.",
        404,
        "code-3",
    )
)
BLOB_UPLOAD_INVALID = register(
    ErrorCode(
        "BLOB_UPLOAD_INVALID",
        "blob upload invalid",
        "The blob upload encountered an error and can no longer proceed.",
        400,
        "code-2",
        note="distribution declares 404; the OCI spec's upload failures are 400, which we follow so "
        "that clients do not mistake a bad request for a vanished session.",
    )
)
PAGINATION_NUMBER_INVALID = register(
    ErrorCode(
        "PAGINATION_NUMBER_INVALID",
        "invalid number of results requested",
        'Returned when the "n" parameter (number of results to return) is not an integer, "n" is '
        'negative or "n" is bigger than the maximum allowed.',
        400,
    )
)
