"""ROUTES: every route, method and request variant of the registry API, with OCI end-N ids."""

from __future__ import annotations

from . import errors as E
from . import mediatypes as mt
from . import params as P
from .model import Body, ErrorCode, Method, Param, Request, Response, Route

MANIFEST_BODY = Body(
    mt.MANIFEST_TYPES,
    "The manifest, byte for byte as it was put; Content-Type is the stored media type.",
    schema_ref="Manifest",
    example='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{...},"layers":[...]}',
)
BLOB_BODY = Body((mt.OCTET_STREAM,), "The blob's bytes.", binary=True, example="<binary data>")
UPLOAD_CHUNK = Body(
    (mt.OCTET_STREAM,), "Bytes to append to the upload.", binary=True, example="<binary data>"
)
EMPTY_BODY = Body((mt.JSON,), "An empty JSON object.", schema_ref="Empty", example="{}")
UPLOAD_HEADERS = (P.H_LOCATION, P.H_UPLOAD_RANGE, P.H_UPLOAD_UUID, P.H_CONTENT_LENGTH)
CREATED_BLOB_HEADERS = (P.H_LOCATION, P.H_CONTENT_LENGTH, P.H_DIGEST)

# What the framework's refusal of a request that no parameter explains is answered with (Method.rejected).
MANIFEST_REFUSED = (
    P.json_error(
        400,
        "The manifest does not match its media type's schema, or its media type is unknown.",
        E.MANIFEST_INVALID,
    ),
)
UPLOAD_REFUSED = (
    P.json_error(400, "The request is malformed.", E.BLOB_UPLOAD_INVALID),
    P.json_error(415, "The body is not `application/octet-stream`.", E.BLOB_UPLOAD_INVALID),
)
# Reads of a reference no manifest can have answer "not there", as distribution's router does (the OCI
# conformance suite GETs and HEADs ``.INVALID_MANIFEST_NAME`` and expects 404).
UNKNOWN_ON_READ = (("reference", E.MANIFEST_UNKNOWN),)

REPO_INVALID = P.json_error(400, "The repository name is invalid.", E.NAME_INVALID)
UPLOAD_UNKNOWN = P.json_error(
    404, "The upload session is unknown (never started, completed or cancelled).", E.BLOB_UPLOAD_UNKNOWN
)


def read_method(
    method: str,
    operation: str,
    summary: str,
    description: str,
    spec_id: str | None,
    request: Request,
    *,
    fast: bool = False,
    param_errors: tuple[tuple[str, ErrorCode], ...] = (),
    rejected: tuple[Response, ...] = (),
) -> Method:
    """A method with one request variant."""
    return Method(method, operation, summary, description, (request,), spec_id, fast, param_errors, rejected)


# --- base ----------------------------------------------------------------------------------------
BASE = Route(
    "base",
    "/v2/",
    "Base",
    "Base V2 API route: tells a client that this server implements the registry API and whether it is authorised. "
    "`/v2` without the trailing slash is answered as `/v2/` (as distribution does), not redirected.",
    methods=(
        read_method(
            "GET",
            "check",
            "Check API version",
            "Check that the endpoint implements the registry API V2.",
            "end-1",
            Request(
                "API Version Check",
                "Ask whether the registry implements the V2 API; a 401 tells the client to authenticate.",
                headers=(P.AUTHORIZATION,),
                successes=(
                    Response(
                        200,
                        "The API is implemented and the client is authorised.",
                        headers=(P.API_VERSION, P.H_CONTENT_LENGTH),
                        body=EMPTY_BODY,
                    ),
                ),
                failures=P.COMMON_FAILURES,
            ),
            fast=True,
        ),
    ),
)

# --- catalog -------------------------------------------------------------------------------------
CATALOG = Route(
    "catalog",
    "/v2/_catalog",
    "Catalog",
    "List the repositories of the registry in distribution's walk order, in pages.",
    methods=(
        read_method(
            "GET",
            "list_repositories",
            "List repositories",
            "Page through the repository names in distribution's walk order: component by component, so `a/b` comes before `a-b`.",
            None,
            Request(
                "Catalog Fetch",
                "Return up to `n` repository names after `last`; a `Link` header points at the next page.",
                query=(P.PAGE_N, P.LAST_REPO),
                successes=(
                    Response(
                        200,
                        "A page of repository names.",
                        headers=(P.H_CONTENT_LENGTH, P.H_LINK),
                        body=Body(
                            (mt.JSON,),
                            "Repository names.",
                            schema_ref="Catalog",
                            example='{"repositories":["library/alpine","library/ubuntu"]}',
                        ),
                    ),
                ),
                failures=(
                    P.json_error(400, "`n` is not a valid page size.", E.PAGINATION_NUMBER_INVALID),
                    *P.COMMON_FAILURES,
                ),
            ),
            fast=True,
        ),
    ),
)

# --- tags ----------------------------------------------------------------------------------------
TAGS = Route(
    "tags",
    "/v2/{name}/tags/list",
    "Tags",
    "List the tags of a repository, lexically sorted, in pages.",
    path_params=(P.NAME,),
    methods=(
        Method(
            "GET",
            "list_tags",
            "List tags",
            "Fetch the tags of the repository.",
            (
                Request(
                    "Tags",
                    "Return every tag of the repository.",
                    spec_id="end-8a",
                    successes=(
                        Response(
                            200,
                            "The tags of the repository, sorted.",
                            headers=(P.H_CONTENT_LENGTH, P.H_LINK),
                            body=Body(
                                (mt.JSON,),
                                "The tag list.",
                                schema_ref="TagList",
                                example='{"name":"library/ubuntu","tags":["22.04","latest"]}',
                            ),
                        ),
                    ),
                    failures=(REPO_INVALID, P.NAME_UNKNOWN, *P.COMMON_FAILURES),
                ),
                Request(
                    "Tags Paginated",
                    "Return up to `n` tags after `last`; `Link` points at the next page.",
                    query=(P.PAGE_N, P.LAST_TAG),
                    spec_id="end-8b",
                    successes=(
                        Response(
                            200,
                            "A page of tags, sorted.",
                            headers=(P.H_CONTENT_LENGTH, P.H_LINK),
                            body=Body(
                                (mt.JSON,),
                                "The tag list.",
                                schema_ref="TagList",
                                example='{"name":"library/ubuntu","tags":["22.04"]}',
                            ),
                        ),
                    ),
                    failures=(
                        P.json_error(
                            400, "Invalid name or page size.", E.NAME_INVALID, E.PAGINATION_NUMBER_INVALID
                        ),
                        P.NAME_UNKNOWN,
                        *P.COMMON_FAILURES,
                    ),
                ),
            ),
            "end-8a",
            fast=True,
        ),
    ),
)

# --- manifests -----------------------------------------------------------------------------------
MANIFEST_HEADERS = (P.H_DIGEST, P.H_CONTENT_TYPE, P.H_CONTENT_LENGTH, P.H_ETAG)
MANIFEST_READ_FAILURES = (
    P.json_error(400, "The repository name is invalid.", E.NAME_INVALID),
    P.json_error(
        404,
        "The repository or the manifest is unknown; so is a reference no manifest can have (an invalid tag or"
        " digest), as distribution answers it.",
        E.NAME_UNKNOWN,
        E.MANIFEST_UNKNOWN,
    ),
    *P.COMMON_FAILURES,
)
NOT_MODIFIED = Response(304, "The client's copy (If-None-Match) is current.", headers=(P.H_DIGEST, P.H_ETAG))


def manifest_fetch(name: str, description: str, with_body: bool) -> Request:
    ok = Response(
        200,
        "The manifest." if with_body else "The manifest exists; headers only.",
        headers=MANIFEST_HEADERS,
        body=MANIFEST_BODY if with_body else None,
    )
    return Request(
        name,
        description,
        headers=(P.ACCEPT_MANIFEST, P.IF_NONE_MATCH),
        spec_id="end-3",
        successes=(ok, NOT_MODIFIED),
        failures=MANIFEST_READ_FAILURES,
    )


MANIFEST = Route(
    "manifest",
    "/v2/{name}/manifests/{reference}",
    "Manifest",
    "Create, update, delete and retrieve manifests by tag or digest. Writes to one tag, and a PUT and a "
    "DELETE of one digest, take turns: a request waits for the one before it (up to 5 s, then 429 "
    "TOOMANYREQUESTS with Retry-After), so a tag never points at a revision a concurrent delete removed, "
    "and a delete by digest never removes a tag that was moved meanwhile.",
    path_params=(P.NAME, P.REFERENCE),
    methods=(
        read_method(
            "GET",
            "get_manifest",
            "Get manifest",
            "Fetch the manifest identified by `name` and `reference` (a tag or a digest).",
            "end-3",
            manifest_fetch("Manifest", "Fetch a manifest by tag or digest.", True),
            fast=True,
            param_errors=UNKNOWN_ON_READ,
        ),
        read_method(
            "HEAD",
            "head_manifest",
            "Check manifest",
            "Check that a manifest exists; the headers are those of GET.",
            "end-3",
            manifest_fetch("Manifest Exists", "Check a manifest by tag or digest.", False),
            fast=True,
            param_errors=UNKNOWN_ON_READ,
        ),
        read_method(
            "PUT",
            "put_manifest",
            "Put manifest",
            "Store a manifest under a tag or its digest; every blob and child manifest it references must exist.",
            "end-7",
            Request(
                "Put Manifest",
                "Upload a manifest. The exact bytes are stored and served back; the digest is computed over them. "
                f"Bounds: at most {P.MANIFEST_MAX_BYTES // (1024 * 1024)} MiB (413), at most "
                f"{P.MANIFEST_MAX_DESCRIPTORS:,} descriptors (objects with a `digest` member, wherever they are) "
                f"and at most {P.MANIFEST_MAX_DEPTH} levels of nested objects and arrays; beyond either cap the "
                "manifest is refused with 400 MANIFEST_INVALID before its schema is checked. "
                "A PUT by digest may name tags (`?tag=a&tag=b`, OCI distribution-spec 1.2): the manifest is "
                "stored and every tag points at it, or, on any failure, none was moved; each applied tag comes "
                "back in an `OCI-Tag` header. Tag parameters with a PUT by tag: 400 TAG_INVALID.",
                headers=(P.CONTENT_TYPE_MANIFEST,),
                query=(P.TAG_QUERY,),
                body=MANIFEST_BODY,
                successes=(
                    Response(
                        201,
                        "The manifest was accepted.",
                        headers=(P.H_LOCATION, P.H_CONTENT_LENGTH, P.H_DIGEST, P.H_OCI_SUBJECT, P.H_OCI_TAG),
                    ),
                ),
                failures=(
                    P.json_error(
                        400,
                        "The manifest or the request is invalid (over the descriptor or nesting cap included).",
                        E.NAME_INVALID,
                        E.TAG_INVALID,
                        E.MANIFEST_INVALID,
                        E.MANIFEST_UNVERIFIED,
                        E.DIGEST_INVALID,
                    ),
                    P.json_error(
                        400,
                        "Blobs or child manifests it references are unknown; the detail lists them.",
                        E.MANIFEST_BLOB_UNKNOWN,
                    ),
                    P.json_error(404, "The repository is unknown.", E.NAME_UNKNOWN),
                    P.UNSUPPORTED,
                    P.MANIFEST_TOO_LARGE,
                    *P.COMMON_FAILURES,
                ),
            ),
            fast=True,
            rejected=MANIFEST_REFUSED,
        ),
        read_method(
            "DELETE",
            "delete_manifest",
            "Delete manifest",
            "Delete a manifest by digest (removing every tag on it) or remove one tag.",
            "end-9",
            Request(
                "Delete Manifest",
                "Delete by digest, or untag by tag.",
                successes=(Response(202, "The manifest or tag was deleted.", headers=(P.H_CONTENT_LENGTH,)),),
                failures=(
                    P.json_error(
                        400,
                        "The name or reference is invalid.",
                        E.NAME_INVALID,
                        E.TAG_INVALID,
                        E.DIGEST_INVALID,
                    ),
                    P.json_error(
                        404, "The repository, manifest or tag is unknown.", E.NAME_UNKNOWN, E.MANIFEST_UNKNOWN
                    ),
                    P.UNSUPPORTED,
                    *P.COMMON_FAILURES,
                ),
            ),
        ),
    ),
)

# --- blobs ---------------------------------------------------------------------------------------
BLOB_READ_FAILURES = (
    P.json_error(400, "The name or digest is invalid.", E.NAME_INVALID, E.DIGEST_INVALID),
    P.json_error(404, "The blob is not linked in this repository.", E.NAME_UNKNOWN, E.BLOB_UNKNOWN),
    P.json_error(416, "The Range cannot be satisfied.", E.RANGE_INVALID, headers=(P.H_CONTENT_RANGE,)),
    *P.COMMON_FAILURES,
)
BLOB_HEADERS = (P.H_CONTENT_LENGTH, P.H_DIGEST, P.H_ETAG, P.H_ACCEPT_RANGES)


def blob_fetch(name: str, with_body: bool) -> Request:
    body = BLOB_BODY if with_body else None
    return Request(
        name,
        "Retrieve the blob" + ("" if with_body else "'s headers") + "; `Range` asks for part of it.",
        headers=(P.RANGE_REQUEST, P.IF_NONE_MATCH),
        spec_id="end-2",
        successes=(
            Response(200, "The blob.", headers=BLOB_HEADERS, body=body),
            Response(206, "Part of the blob.", headers=(*BLOB_HEADERS, P.H_CONTENT_RANGE), body=body),
            Response(
                307,
                "The blob is served from another location (for example object storage).",
                headers=(P.H_LOCATION, P.H_DIGEST),
            ),
            NOT_MODIFIED,
        ),
        failures=BLOB_READ_FAILURES,
    )


BLOB = Route(
    "blob",
    "/v2/{name}/blobs/{digest}",
    "Blob",
    "Fetch and delete layers and configs by digest; a blob is visible in a repository only when linked there.",
    path_params=(P.NAME, P.DIGEST),
    methods=(
        read_method(
            "GET",
            "get_blob",
            "Get blob",
            "Stream the blob's bytes.",
            "end-2",
            blob_fetch("Fetch Blob", True),
            fast=True,
        ),
        read_method(
            "HEAD",
            "head_blob",
            "Check blob",
            "Check that the blob exists.",
            "end-2",
            blob_fetch("Check Blob", False),
            fast=True,
        ),
        read_method(
            "DELETE",
            "delete_blob",
            "Delete blob",
            "Unlink the blob from the repository.",
            "end-10",
            Request(
                "Delete Blob",
                "Remove the blob's link from the repository; garbage collection reclaims the data.",
                successes=(
                    Response(202, "The blob was unlinked.", headers=(P.H_CONTENT_LENGTH, P.H_DIGEST)),
                ),
                failures=(
                    P.json_error(400, "The name or digest is invalid.", E.NAME_INVALID, E.DIGEST_INVALID),
                    P.json_error(
                        404, "The blob is not linked in this repository.", E.NAME_UNKNOWN, E.BLOB_UNKNOWN
                    ),
                    P.UNSUPPORTED,
                    *P.COMMON_FAILURES,
                ),
            ),
        ),
    ),
)

# --- uploads -------------------------------------------------------------------------------------
UPLOAD_STARTED = Response(
    202, "An upload session was opened; continue it at Location.", headers=UPLOAD_HEADERS
)
BLOB_CREATED = Response(201, "The blob is stored and linked in the repository.", headers=CREATED_BLOB_HEADERS)
UPLOAD_START_FAILURES = (
    P.json_error(
        400, "The name, digest or content is invalid.", E.NAME_INVALID, E.DIGEST_INVALID, E.SIZE_INVALID
    ),
    P.json_error(404, "The repository is unknown.", E.NAME_UNKNOWN),
    P.UNSUPPORTED,
    *P.COMMON_FAILURES,
)

UPLOAD_START = Route(
    "blob-upload",
    "/v2/{name}/blobs/uploads/",
    "Initiate Blob Upload",
    "Start a blob upload: a session to continue with PATCH and PUT, the whole blob at once, or a cross-mount.",
    path_params=(P.NAME,),
    methods=(
        Method(
            "POST",
            "start_upload",
            "Start blob upload",
            "Open an upload session, upload a whole blob in one request, or mount a blob from another repository.",
            (
                Request(
                    "Initiate Monolithic Blob Upload",
                    "Upload the whole blob in the body of this request, with its digest.",
                    headers=(P.CONTENT_LENGTH,),
                    query=(P.DIGEST_QUERY_REQUIRED,),
                    body=BLOB_BODY,
                    successes=(BLOB_CREATED,),
                    failures=UPLOAD_START_FAILURES,
                    spec_id="end-4b",
                ),
                Request(
                    "Initiate Resumable Blob Upload",
                    "Open an upload session with no body; the answer's Location is where to send data.",
                    successes=(UPLOAD_STARTED,),
                    failures=UPLOAD_START_FAILURES,
                    spec_id="end-4a",
                ),
                Request(
                    "Mount Blob",
                    "Link a blob that the `from` repository has (the client needs `pull` on it under access "
                    "control); without `from`, one from any repository of the registry, unless access control "
                    "is configured. When the mount cannot be done an upload session is opened instead (202).",
                    query=(P.MOUNT, P.FROM),
                    successes=(BLOB_CREATED, UPLOAD_STARTED),
                    failures=UPLOAD_START_FAILURES,
                    spec_id="end-11",
                ),
            ),
            "end-4a",
            fast=True,
            rejected=UPLOAD_REFUSED,
        ),
    ),
)

UPLOAD_FAILURES = (
    P.json_error(
        400,
        "The upload or its content is invalid.",
        E.NAME_INVALID,
        E.DIGEST_INVALID,
        E.SIZE_INVALID,
        E.BLOB_UPLOAD_INVALID,
    ),
    UPLOAD_UNKNOWN,
    P.json_error(
        416,
        "The chunk does not start where the upload ends.",
        E.RANGE_INVALID,
        headers=(P.H_LOCATION, P.H_UPLOAD_RANGE),
    ),
    *P.COMMON_FAILURES,
)

UPLOAD_SESSION = Route(
    "blob-upload-chunk",
    "/v2/{name}/blobs/uploads/{uuid}",
    "Blob Upload",
    "Interact with a blob upload session: status, data, completion and cancellation. A session takes one "
    "PATCH, PUT or DELETE at a time, across workers and replicas (the storage holds the claim): another "
    "waits up to 5 s for it, then answers 429 TOOMANYREQUESTS with Retry-After. Of two completions exactly "
    "one wins; the other finds the session gone (404 BLOB_UPLOAD_UNKNOWN).",
    path_params=(P.NAME, P.UUID),
    opaque_query=("_state",),  # the upload's signed state token (registry_impl.api.locations)
    methods=(
        read_method(
            "GET",
            "upload_status",
            "Upload status",
            "The progress of an upload session.",
            "end-13",
            Request(
                "Blob Upload Status",
                "Ask how many bytes the session has received.",
                spec_id="end-13",
                successes=(
                    Response(
                        204, "The session exists; Range tells the bytes received.", headers=UPLOAD_HEADERS
                    ),
                ),
                failures=(
                    P.json_error(
                        400, "The name or session is invalid.", E.NAME_INVALID, E.BLOB_UPLOAD_INVALID
                    ),
                    UPLOAD_UNKNOWN,
                    *P.COMMON_FAILURES,
                ),
            ),
        ),
        Method(
            "PATCH",
            "patch_upload",
            "Upload data",
            "Append data to an upload session.",
            (
                Request(
                    "Stream upload",
                    "Append the body, whatever its length, at the end of the upload.",
                    body=UPLOAD_CHUNK,
                    successes=(UPLOAD_STARTED,),
                    failures=UPLOAD_FAILURES,
                    spec_id="end-5",
                ),
                Request(
                    "Chunked upload",
                    "Append the body at the offset named by Content-Range, which must be where the upload ends.",
                    headers=(P.CONTENT_RANGE, P.CONTENT_LENGTH),
                    body=UPLOAD_CHUNK,
                    successes=(UPLOAD_STARTED,),
                    failures=UPLOAD_FAILURES,
                    spec_id="end-5",
                ),
            ),
            "end-5",
            fast=True,
            rejected=UPLOAD_REFUSED,
        ),
        read_method(
            "PUT",
            "complete_upload",
            "Complete upload",
            "Finish the upload: an optional last chunk, then the digest is verified and the blob linked.",
            "end-6",
            Request(
                "Complete Upload",
                "Close the session with the blob's digest; the body, if any, is the last chunk.",
                headers=(P.CONTENT_RANGE, P.CONTENT_LENGTH),
                query=(P.DIGEST_QUERY_REQUIRED,),
                body=UPLOAD_CHUNK,
                successes=(BLOB_CREATED,),
                failures=UPLOAD_FAILURES,
                spec_id="end-6",
            ),
            fast=True,
            rejected=UPLOAD_REFUSED,
        ),
        read_method(
            "DELETE",
            "cancel_upload",
            "Cancel upload",
            "Cancel the session and discard what it received.",
            "end-14",
            Request(
                "Cancel Blob Upload",
                "Cancel the upload; its data is removed.",
                spec_id="end-14",
                successes=(Response(204, "The session was cancelled.", headers=(P.H_CONTENT_LENGTH,)),),
                failures=(
                    P.json_error(
                        400, "The name or session is invalid.", E.NAME_INVALID, E.BLOB_UPLOAD_INVALID
                    ),
                    UPLOAD_UNKNOWN,
                    *P.COMMON_FAILURES,
                ),
            ),
        ),
    ),
)

# --- referrers -----------------------------------------------------------------------------------
REFERRERS_BODY = Body(
    (mt.OCI_INDEX,),
    "An image index whose manifests are the referrers' descriptors.",
    schema_ref="OCIImageIndex",
    example='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
)
REFERRERS_FAILURES = (
    P.json_error(400, "The name or digest is invalid.", E.NAME_INVALID, E.DIGEST_INVALID),
    *P.COMMON_FAILURES,
)
REFERRERS = Route(
    "referrers",
    "/v2/{name}/referrers/{digest}",
    "Referrers",
    "List the manifests whose `subject` is the given digest (signatures, SBOMs, attestations).",
    path_params=(P.NAME, P.DIGEST),
    methods=(
        Method(
            "GET",
            "list_referrers",
            "List referrers",
            "An index of the manifests that refer to the digest; an unknown digest has an empty list, in a "
            "repository with content or in one with none yet (never 404: clients read 404 as a registry without "
            "the referrers API).",
            (
                Request(
                    "Referrers",
                    "Every referrer of the digest.",
                    spec_id="end-12a",
                    successes=(
                        Response(200, "The referrers.", headers=(P.H_CONTENT_TYPE,), body=REFERRERS_BODY),
                    ),
                    failures=REFERRERS_FAILURES,
                ),
                Request(
                    "Referrers Filtered",
                    "Only the referrers with the given artifactType.",
                    query=(P.ARTIFACT_TYPE,),
                    spec_id="end-12b",
                    successes=(
                        Response(
                            200,
                            "The matching referrers; OCI-Filters-Applied names the filter.",
                            headers=(P.H_CONTENT_TYPE, P.H_FILTERS_APPLIED),
                            body=REFERRERS_BODY,
                        ),
                    ),
                    failures=REFERRERS_FAILURES,
                ),
            ),
            "end-12a",
        ),
    ),
)

# --- liveness ------------------------------------------------------------------------------------
# distribution answers ``/`` outside its router (registry.go ``alive("/", ...)``): 200, no body,
# ``Cache-Control: no-cache``, never challenged. Load balancers and Helm charts probe it.
LIVENESS = Route(
    "liveness",
    "/",
    "Liveness",
    "Tells a probe that the server is up; says nothing about storage and never asks for credentials.",
    methods=(
        read_method(
            "GET",
            "alive",
            "Liveness probe",
            "Answer 200 with an empty body while the server runs, as distribution does (outside `/v2/`: no authentication).",
            None,
            Request(
                "Liveness Probe",
                "Ask whether the server is up.",
                successes=(
                    Response(200, "The server is up.", headers=(P.H_CACHE_CONTROL, P.H_CONTENT_LENGTH)),
                ),
            ),
        ),
        read_method(
            "HEAD",
            "alive_head",
            "Liveness probe without a body",
            "The GET answer without its body, for load balancers that probe with HEAD. distribution answers 200 to "
            "every method on `/`; this registry answers GET and HEAD, and 405 `UNSUPPORTED` to the others.",
            None,
            Request(
                "Liveness Probe (HEAD)",
                "Ask whether the server is up, without a body.",
                successes=(
                    Response(200, "The server is up.", headers=(P.H_CACHE_CONTROL, P.H_CONTENT_LENGTH)),
                ),
            ),
        ),
    ),
)

ROUTES: tuple[Route, ...] = (
    BASE,
    CATALOG,
    TAGS,
    MANIFEST,
    BLOB,
    UPLOAD_START,
    UPLOAD_SESSION,
    REFERRERS,
    LIVENESS,
)

# Failures any operation can answer, documented once.
GLOBAL_FAILURES = (
    P.MALFORMED,
    P.NOT_IN_TIME,
    P.REQUEST_LINE_TOO_LONG,
    P.HEADERS_TOO_LARGE,
    P.SERVER_ERROR,
    P.UNAVAILABLE,
)


def find_route(name: str) -> Route:
    """The route called ``name``."""
    for route in ROUTES:
        if route.name == name:
            return route
    raise KeyError(name)


def all_params() -> list[Param]:
    """Every parameter and header named anywhere in the descriptor."""
    out: list[Param] = []
    for route in ROUTES:
        out += route.path_params
        for method in route.methods:
            for request in method.requests:
                out += request.headers + request.query
                for response in request.successes + request.failures:
                    out += response.headers
    return out
