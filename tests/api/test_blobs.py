"""/v2/<name>/blobs/<digest>: GET and HEAD (headers, conditional, ranges), visibility, validation, DELETE.

Covers the blob part of the OCI conformance pull workflow (``01_pull_test.go``: HEAD/GET of an existing
and a missing blob) and the blob checks of the push workflow, plus what distribution serves beyond it.
"""

from __future__ import annotations

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import Helper, error_codes, sha256
from testkit.uploads import OCTET, blob_stored, linked, sha512, start, with_query

from registry_impl.api.context import AppState
from registry_impl.storage.registry import Policy

pytestmark = pytest.mark.anyio

DATA = b"0123456789abcdefghij"  # 20 bytes
MISSING = sha256(b"never pushed")


# --- GET / HEAD ----------------------------------------------------------------------------------


async def test_get_serves_bytes_with_length_digest_and_etag(client: httpx.AsyncClient, push: Helper) -> None:
    digest = await push.blob("library/a", DATA)
    r = await client.get(f"/v2/library/a/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["Content-Length"] == str(len(DATA))
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["ETag"] == f'"{digest}"'
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Accept-Ranges"] == "bytes"


async def test_head_has_the_get_headers_and_no_body(client: httpx.AsyncClient, push: Helper) -> None:
    digest = await push.blob("a", DATA)
    r = await client.head(f"/v2/a/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Content-Length"] == str(len(DATA))
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["ETag"] == f'"{digest}"'


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("tag", ['"{d}"', 'W/"{d}"', "*", '"sha256:other", "{d}"'])
async def test_if_none_match_gives_304(
    client: httpx.AsyncClient, push: Helper, method: str, tag: str
) -> None:
    digest = await push.blob("a", DATA)
    r = await client.request(method, f"/v2/a/blobs/{digest}", headers={"If-None-Match": tag.format(d=digest)})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["ETag"] == f'"{digest}"'


async def test_if_none_match_other_etag_gives_200(client: httpx.AsyncClient, push: Helper) -> None:
    digest = await push.blob("a", DATA)
    r = await client.get(f"/v2/a/blobs/{digest}", headers={"If-None-Match": f'"{MISSING}"'})
    assert r.status_code == 200
    assert r.content == DATA


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=2-5", 2, 5),
        ("bytes=0-0", 0, 0),
        ("bytes=15-", 15, 19),
        ("bytes=10-1000", 10, 19),  # the end is clamped to the blob
        ("bytes=-4", 16, 19),  # suffix range: the last 4 bytes
        ("bytes=-1000", 0, 19),  # a suffix longer than the blob is the whole blob
    ],
)
async def test_range_gives_206_with_content_range(
    client: httpx.AsyncClient, push: Helper, header: str, start: int, end: int
) -> None:
    digest = await push.blob("a", DATA)
    r = await client.get(f"/v2/a/blobs/{digest}", headers={"Range": header})
    assert r.status_code == 206
    assert r.content == DATA[start : end + 1]
    assert r.headers["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert r.headers["Content-Length"] == str(end - start + 1)
    assert r.headers["Docker-Content-Digest"] == digest


async def test_head_with_range_announces_the_part(client: httpx.AsyncClient, push: Helper) -> None:
    digest = await push.blob("a", DATA)
    r = await client.head(f"/v2/a/blobs/{digest}", headers={"Range": "bytes=4-7"})
    assert r.status_code == 206
    assert r.content == b""
    assert r.headers["Content-Range"] == f"bytes 4-7/{len(DATA)}"
    assert r.headers["Content-Length"] == "4"


@pytest.mark.parametrize("header", ["bytes=20-", "bytes=100-200", "bytes=-0", "bytes=5-2"])
async def test_unsatisfiable_range_is_416(client: httpx.AsyncClient, push: Helper, header: str) -> None:
    digest = await push.blob("a", DATA)
    r = await client.get(f"/v2/a/blobs/{digest}", headers={"Range": header})
    assert r.status_code == 416
    assert error_codes(r) == ["RANGE_INVALID"]
    assert r.headers["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize("header", ["items=0-3", "bytes=0-1,4-5", "garbage"])
async def test_ignorable_range_serves_the_whole_blob(
    client: httpx.AsyncClient, push: Helper, header: str
) -> None:
    """RFC 9110 lets a server ignore a Range it does not understand; it must not fail the request."""
    digest = await push.blob("a", DATA)
    r = await client.get(f"/v2/a/blobs/{digest}", headers={"Range": header})
    assert r.status_code == 200
    assert r.content == DATA


@pytest.mark.parametrize("driver", ["inmemory"], indirect=True)  # the same answer on every driver
async def test_if_range_serves_the_range_only_for_this_blob(client: httpx.AsyncClient, push: Helper) -> None:
    """RFC 9110 §13.1.5: a Range under an If-Range that is not this content's entity-tag (strongly compared;
    a date, as no Last-Modified is sent) is ignored and the whole blob served, as distribution does."""
    digest = await push.blob("a", DATA)
    r = await client.get(f"/v2/a/blobs/{digest}", headers={"Range": "bytes=1-2", "If-Range": f'"{digest}"'})
    assert (r.status_code, r.content) == (206, DATA[1:3])
    for validator in ('"sha256:not-this-one"', f'W/"{digest}"', "Wed, 21 Oct 2015 07:28:00 GMT"):
        r = await client.get(f"/v2/a/blobs/{digest}", headers={"Range": "bytes=1-2", "If-Range": validator})
        assert (r.status_code, r.content) == (200, DATA), validator
        assert "Content-Range" not in r.headers


async def test_zero_byte_blob(client: httpx.AsyncClient, push: Helper) -> None:
    digest = await push.blob("a", b"")
    r = await client.get(f"/v2/a/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Content-Length"] == "0"
    assert r.headers["Docker-Content-Digest"] == digest
    r = await client.get(f"/v2/a/blobs/{digest}", headers={"Range": "bytes=0-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */0"


async def test_large_blob_streams_whole(client: httpx.AsyncClient, push: Helper) -> None:
    data = bytes(range(256)) * 10_000  # 2.5 MiB: several read chunks
    digest = await push.blob("a", data)
    r = await client.get(f"/v2/a/blobs/{digest}")
    assert r.status_code == 200
    assert sha256(r.content) == digest
    r = await client.get(f"/v2/a/blobs/{digest}", headers={"Range": "bytes=1048570-2097160"})
    assert r.status_code == 206
    assert r.content == data[1048570:2097161]


# --- visibility and unknown blobs ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_unknown_blob_is_404_blob_unknown(client: httpx.AsyncClient, push: Helper, method: str) -> None:
    await push.blob("a", DATA)
    r = await client.request(method, f"/v2/a/blobs/{MISSING}")
    assert r.status_code == 404
    if method == "GET":
        assert error_codes(r) == ["BLOB_UNKNOWN"]


async def test_blob_is_visible_only_in_the_repository_it_was_pushed_to(
    client: httpx.AsyncClient, push: Helper, state: AppState
) -> None:
    digest = await push.blob("repo-a", DATA)
    await push.blob("repo-b", b"something else")
    for name in ("repo-b", "never/created"):
        r = await client.get(f"/v2/{name}/blobs/{digest}")
        assert r.status_code == 404
        assert error_codes(r) == ["BLOB_UNKNOWN"]
        assert (await client.head(f"/v2/{name}/blobs/{digest}")).status_code == 404
    assert blob_stored(state.registry.driver, digest)  # shared store, but not linked in B
    assert not linked(state.registry.driver, "repo-b", digest)


async def test_nested_repository_names(client: httpx.AsyncClient, push: Helper) -> None:
    digest = await push.blob("org/team/app", DATA)
    assert (await client.get(f"/v2/org/team/app/blobs/{digest}")).content == DATA
    r = await client.get(f"/v2/org/team/blobs/{digest}")
    assert error_codes(r) == ["BLOB_UNKNOWN"]


# --- validation ----------------------------------------------------------------------------------

MALFORMED_DIGESTS = [
    "sha256:abc",  # too short
    "sha256:" + "A" * 64,  # uppercase hex
    "sha256:" + "0" * 65,  # too long
    "md5:" + "0" * 32,  # unsupported algorithm
    "sha512:" + "0" * 64,  # sha512 with a sha256 length
    "sha256",  # no encoded part
    "sha256:" + "g" * 64,  # not hex
]


@pytest.mark.parametrize("digest", MALFORMED_DIGESTS)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_malformed_digest_is_400_digest_invalid(
    client: httpx.AsyncClient, push: Helper, digest: str, method: str
) -> None:
    await push.blob("a", DATA)
    r = await client.request(method, f"/v2/a/blobs/{digest}")
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["DIGEST_INVALID"]


@pytest.mark.parametrize("digest", MALFORMED_DIGESTS)
async def test_malformed_digest_head_is_400(client: httpx.AsyncClient, digest: str) -> None:
    r = await client.head(f"/v2/a/blobs/{digest}")
    assert r.status_code == 400


INVALID_NAMES = ["Upper/case", "a..b", "a//b", "a/", "-a", "a_", "x" * 256, "a/" * 127 + "bc"]


@pytest.mark.parametrize("name", INVALID_NAMES)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_invalid_name_is_400_name_invalid(client: httpx.AsyncClient, name: str, method: str) -> None:
    r = await client.request(method, f"/v2/{name}/blobs/{MISSING}")
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["NAME_INVALID"]


async def test_name_of_255_characters_is_valid(client: httpx.AsyncClient, push: Helper) -> None:
    name = "x" * 255
    digest = await push.blob(name, DATA)
    assert (await client.get(f"/v2/{name}/blobs/{digest}")).content == DATA


async def test_invalid_name_wins_over_invalid_digest(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/UPPER/blobs/sha256:abc")
    assert r.status_code == 400
    assert error_codes(r) == ["NAME_INVALID"]


# --- sha512 --------------------------------------------------------------------------------------


async def test_sha512_blob_end_to_end(client: httpx.AsyncClient, state: AppState) -> None:
    digest = sha512(DATA)
    location = await start(client, "a")
    r = await client.put(with_query(location, digest=digest), content=DATA, headers=OCTET)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Location"].endswith(f"/v2/a/blobs/{digest}")
    r = await client.get(f"/v2/a/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["ETag"] == f'"{digest}"'
    r = await client.get(f"/v2/a/blobs/{digest}", headers={"Range": "bytes=-3"})
    assert r.content == DATA[-3:]
    assert blob_stored(state.registry.driver, digest)
    assert not blob_stored(state.registry.driver, sha256(DATA))
    assert (await client.delete(f"/v2/a/blobs/{digest}")).status_code == 202
    assert (await client.head(f"/v2/a/blobs/{digest}")).status_code == 404


async def test_sha512_monolithic_push(client: httpx.AsyncClient) -> None:
    digest = sha512(DATA)
    r = await client.post("/v2/a/blobs/uploads/", params={"digest": digest}, content=DATA, headers=OCTET)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    assert (await client.get(f"/v2/a/blobs/{digest}")).content == DATA


# --- DELETE --------------------------------------------------------------------------------------


async def test_delete_unlinks_then_404(client: httpx.AsyncClient, push: Helper, state: AppState) -> None:
    digest = await push.blob("a", DATA)
    await push.blob("b", DATA)
    r = await client.delete(f"/v2/a/blobs/{digest}")
    assert r.status_code == 202
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Content-Length"] == "0"
    r = await client.get(f"/v2/a/blobs/{digest}")
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UNKNOWN"]
    r = await client.delete(f"/v2/a/blobs/{digest}")
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UNKNOWN"]
    assert not linked(state.registry.driver, "a", digest)
    # the other repository's link is untouched
    assert (await client.get(f"/v2/b/blobs/{digest}")).content == DATA


async def test_delete_unknown_blob_is_404(client: httpx.AsyncClient) -> None:
    r = await client.delete(f"/v2/a/blobs/{MISSING}")
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UNKNOWN"]


async def test_blob_can_be_pushed_again_after_delete(client: httpx.AsyncClient, push: Helper) -> None:
    digest = await push.blob("a", DATA)
    assert (await client.delete(f"/v2/a/blobs/{digest}")).status_code == 202
    assert await push.blob("a", DATA) == digest
    assert (await client.get(f"/v2/a/blobs/{digest}")).content == DATA


class TestDeletesDisabled:
    @pytest.fixture
    def policy(self) -> Policy:
        return Policy(delete_enabled=False)

    async def test_blob_delete_is_405_unsupported(
        self, client: httpx.AsyncClient, push: Helper, state: AppState
    ) -> None:
        digest = await push.blob("a", DATA)
        r = await client.delete(f"/v2/a/blobs/{digest}")
        assert r.status_code == 405
        assert error_codes(r) == ["UNSUPPORTED"]
        assert linked(state.registry.driver, "a", digest)
        assert (await client.get(f"/v2/a/blobs/{digest}")).content == DATA


class TestReadOnly:
    @pytest.fixture
    def policy(self) -> Policy:
        return Policy(read_only=True)

    async def test_blob_delete_is_405_unsupported(self, client: httpx.AsyncClient, state: AppState) -> None:
        digest = state.registry.blobs.put(DATA)
        state.registry.repository("a").blobs.link(digest)
        r = await client.delete(f"/v2/a/blobs/{digest}")
        assert r.status_code == 405
        assert error_codes(r) == ["UNSUPPORTED"]
        r = await client.get(f"/v2/a/blobs/{digest}")
        assert r.status_code == 200
        assert r.content == DATA
