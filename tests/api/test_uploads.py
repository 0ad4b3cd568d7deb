"""/v2/<name>/blobs/uploads/: sessions, monolithic, streamed and chunked uploads, completion, cancellation.

Covers the push workflow of the OCI conformance suite (``02_push_test.go``: streamed, monolithic and
chunked uploads, the reuse of one session URL, out-of-order chunks, stale-session status) and what a
failure must leave behind: nothing (no session, no link, no stray blob data).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
import pytest
from testkit.apps import shared_app, shared_client  # noqa: F401  (one app per module)
from testkit.registry import error_codes, sha256
from testkit.uploads import OCTET, blob_stored, linked, sessions, start, upload_id, with_query

from registry_impl.api.context import AppState
from registry_impl.api.locations import sign_upload
from registry_impl.storage.driver.base import StorageDriver
from registry_impl.storage.registry import Policy, Registry

pytestmark = pytest.mark.anyio

DATA = b"the quick brown fox jumps over the lazy dog"
DIGEST = sha256(DATA)
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def chunk_headers(start: int, chunk: bytes) -> dict[str, str]:
    return {**OCTET, "Content-Range": f"{start}-{start + len(chunk) - 1}"}


async def assert_no_session(client: httpx.AsyncClient, location: str) -> None:
    r = await client.get(location)
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UPLOAD_UNKNOWN"]


async def assert_not_stored(client: httpx.AsyncClient, state: AppState, name: str, *digests: str) -> None:
    for digest in digests:
        r = await client.get(f"/v2/{name}/blobs/{digest}")
        assert r.status_code == 404
        assert error_codes(r) == ["BLOB_UNKNOWN"]
        assert not linked(state.registry.driver, name, digest)
        assert not blob_stored(state.registry.driver, digest)


async def body(*parts: bytes) -> AsyncIterator[bytes]:
    """A request body without Content-Length (sent chunked, as docker does)."""
    for part in parts:
        yield part


# --- POST ----------------------------------------------------------------------------------------


async def test_post_opens_a_session(client: httpx.AsyncClient, state: AppState) -> None:
    r = await client.post("/v2/library/app/blobs/uploads/")
    assert r.status_code == 202
    location = r.headers["Location"]
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc) == ("http", "registry.test")
    assert parts.path == f"/v2/library/app/blobs/uploads/{r.headers['Docker-Upload-UUID']}"
    assert "_state" in dict(parse_qsl(parts.query))
    assert r.headers["Range"] == "0-0"
    assert r.headers["Content-Length"] == "0"
    assert sessions(state.registry.driver, "library/app") == [r.headers["Docker-Upload-UUID"]]


async def test_each_post_opens_a_new_session(client: httpx.AsyncClient) -> None:
    ids = {upload_id(await start(client, "a")) for _ in range(3)}
    assert len(ids) == 3


async def test_monolithic_post_gives_201(client: httpx.AsyncClient, state: AppState) -> None:
    r = await client.post("/v2/a/blobs/uploads/", params={"digest": DIGEST}, content=DATA, headers=OCTET)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"http://registry.test/v2/a/blobs/{DIGEST}"
    assert r.headers["Docker-Content-Digest"] == DIGEST
    assert r.headers["Content-Length"] == "0"
    r = await client.get(f"/v2/a/blobs/{DIGEST}")
    assert r.content == DATA
    assert sessions(state.registry.driver, "a") == []


async def test_monolithic_post_with_wrong_digest_leaves_nothing(
    client: httpx.AsyncClient, state: AppState
) -> None:
    wrong = sha256(b"other")
    r = await client.post("/v2/a/blobs/uploads/", params={"digest": wrong}, content=DATA, headers=OCTET)
    assert r.status_code == 400
    assert error_codes(r) == ["DIGEST_INVALID"]
    assert sessions(state.registry.driver, "a") == []
    await assert_not_stored(client, state, "a", wrong, DIGEST)


@pytest.mark.parametrize("digest", ["sha256:abc", "md5:" + "0" * 32, "nonsense"])
async def test_monolithic_post_with_malformed_digest_is_400(
    client: httpx.AsyncClient, state: AppState, digest: str
) -> None:
    r = await client.post("/v2/a/blobs/uploads/", params={"digest": digest}, content=DATA, headers=OCTET)
    assert r.status_code == 400
    assert error_codes(r) == ["DIGEST_INVALID"]
    assert sessions(state.registry.driver, "a") == []


async def test_monolithic_post_of_a_known_blob(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        r = await client.post("/v2/a/blobs/uploads/", params={"digest": DIGEST}, content=DATA, headers=OCTET)
        assert r.status_code == 201
    assert (await client.get(f"/v2/a/blobs/{DIGEST}")).content == DATA


@pytest.mark.parametrize("name", ["Upper", "a..b", "a//b", "x" * 256])
async def test_post_with_invalid_name_is_400(client: httpx.AsyncClient, state: AppState, name: str) -> None:
    r = await client.post(f"/v2/{name}/blobs/uploads/")
    assert r.status_code == 400
    assert error_codes(r) == ["NAME_INVALID"]
    assert state.registry.repositories() == []


# --- streamed PATCH ------------------------------------------------------------------------------


async def test_streamed_patch_then_put(client: httpx.AsyncClient, state: AppState) -> None:
    location = await start(client, "a")
    r = await client.patch(location, content=DATA, headers=OCTET)
    assert r.status_code == 202
    assert r.headers["Range"] == f"0-{len(DATA) - 1}"
    assert r.headers["Docker-Upload-UUID"] == upload_id(location)
    assert r.headers["Content-Length"] == "0"
    assert upload_id(r.headers["Location"]) == upload_id(location)
    r = await client.put(
        with_query(r.headers["Location"], digest=DIGEST), headers={**OCTET, "Content-Length": "0"}
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"http://registry.test/v2/a/blobs/{DIGEST}"
    assert r.headers["Docker-Content-Digest"] == DIGEST
    assert (await client.get(f"/v2/a/blobs/{DIGEST}")).content == DATA
    assert sessions(state.registry.driver, "a") == []
    await assert_no_session(client, location)


async def test_streamed_patches_append(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    for part in (DATA[:10], DATA[10:30], DATA[30:]):
        r = await client.patch(location, content=body(part), headers=OCTET)
        assert r.status_code == 202
        assert "Content-Length" not in r.request.headers
    assert r.headers["Range"] == f"0-{len(DATA) - 1}"
    r = await client.put(with_query(location, digest=DIGEST))
    assert r.status_code == 201
    assert (await client.get(f"/v2/a/blobs/{DIGEST}")).content == DATA


async def test_empty_patch_keeps_the_offset(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    await client.patch(location, content=DATA[:5], headers=OCTET)
    r = await client.patch(location, content=b"", headers=OCTET)
    assert r.status_code == 202
    assert r.headers["Range"] == "0-4"


# --- chunked PATCH -------------------------------------------------------------------------------


async def test_chunked_patches_continue_where_the_upload_ends(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    first, second = DATA[:16], DATA[16:]
    r = await client.patch(location, content=first, headers=chunk_headers(0, first))
    assert r.status_code == 202
    assert r.headers["Range"] == "0-15"
    r = await client.patch(r.headers["Location"], content=second, headers=chunk_headers(16, second))
    assert r.status_code == 202
    assert r.headers["Range"] == f"0-{len(DATA) - 1}"
    r = await client.put(with_query(r.headers["Location"], digest=DIGEST))
    assert r.status_code == 201
    assert (await client.get(f"/v2/a/blobs/{DIGEST}")).content == DATA


@pytest.mark.parametrize("form", ["{s}-{e}", "bytes {s}-{e}/*", "bytes={s}-{e}", "bytes {s}-{e}/{t}"])
async def test_content_range_forms(client: httpx.AsyncClient, form: str) -> None:
    location = await start(client, "a")
    for start_, part in ((0, DATA[:20]), (20, DATA[20:])):
        value = form.format(s=start_, e=start_ + len(part) - 1, t=len(DATA))
        r = await client.patch(location, content=part, headers={**OCTET, "Content-Range": value})
        assert r.status_code == 202, r.text
    assert r.headers["Range"] == f"0-{len(DATA) - 1}"


async def test_the_first_session_url_can_be_reused(client: httpx.AsyncClient) -> None:
    """The conformance suite PATCHes, GETs and retries against the URL the POST returned."""
    location = await start(client, "a")
    first, second = DATA[:10], DATA[10:]
    r = await client.patch(location, content=first, headers=chunk_headers(0, first))
    assert r.status_code == 202
    r = await client.patch(location, content=first, headers=chunk_headers(0, first))  # retry: stale
    assert r.status_code == 416
    r = await client.get(location)
    assert r.status_code == 204
    assert r.headers["Range"] == "0-9"
    r = await client.patch(location, content=second, headers=chunk_headers(10, second))
    assert r.status_code == 202
    r = await client.put(with_query(location, digest=DIGEST), headers={"Content-Length": "0"})
    assert r.status_code == 201
    assert (await client.get(f"/v2/a/blobs/{DIGEST}")).content == DATA


@pytest.mark.parametrize("start_", [5, 1])
async def test_out_of_order_chunk_is_416_with_the_current_offset(
    client: httpx.AsyncClient, start_: int
) -> None:
    location = await start(client, "a")
    r = await client.patch(location, content=DATA[start_:], headers=chunk_headers(start_, DATA[start_:]))
    assert r.status_code == 416
    assert error_codes(r) == ["RANGE_INVALID"]
    assert r.headers["Range"] == "0-0"
    assert upload_id(r.headers["Location"]) == upload_id(location)
    # after some data, a gap and an overlap are refused alike
    await client.patch(location, content=DATA[:8], headers=chunk_headers(0, DATA[:8]))
    for bad in (9, 4):
        r = await client.patch(location, content=DATA[bad:], headers=chunk_headers(bad, DATA[bad:]))
        assert r.status_code == 416
        assert r.headers["Range"] == "0-7"
    # the session is intact
    r = await client.patch(location, content=DATA[8:], headers=chunk_headers(8, DATA[8:]))
    assert r.status_code == 202
    assert (await client.put(with_query(location, digest=DIGEST))).status_code == 201


async def test_content_length_disagreeing_with_content_range_is_400(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    await client.patch(location, content=DATA[:4], headers=chunk_headers(0, DATA[:4]))
    headers = {**OCTET, "Content-Range": f"4-{4 + 10 - 1}"}  # announces 10 bytes, sends 6
    r = await client.patch(location, content=DATA[4:10], headers=headers)
    assert r.status_code == 400
    assert error_codes(r) == ["SIZE_INVALID"]
    r = await client.get(location)
    assert r.status_code == 204
    assert r.headers["Range"] == "0-3"  # nothing of the refused chunk was kept


@pytest.mark.parametrize(("sent", "kept"), [(DATA[4:10], DATA[4:10]), (DATA[4:30], DATA[4:20])])
async def test_streamed_body_disagreeing_with_content_range_keeps_what_was_acknowledged(
    client: httpx.AsyncClient, sent: bytes, kept: bytes
) -> None:
    """Without Content-Length the mismatch shows only once bytes arrived: the request is refused, but the
    chunks acknowledged before it stay (a lying chunk used to discard the whole session), and nothing past the
    end its Content-Range announced is written, so the upload continues from the Range it reports."""
    location = await start(client, "a")
    r = await client.patch(location, content=DATA[:4], headers=chunk_headers(0, DATA[:4]))
    assert r.status_code == 202
    r = await client.patch(location, content=body(sent), headers={**OCTET, "Content-Range": "4-19"})
    assert r.status_code == 400
    assert error_codes(r) == ["SIZE_INVALID"]
    r = await client.get(location)
    assert r.status_code == 204
    end = 4 + len(kept)
    assert r.headers["Range"] == f"0-{end - 1}"
    rest = DATA[end:]
    r = await client.put(with_query(location, digest=DIGEST), content=rest, headers=chunk_headers(end, rest))
    assert r.status_code == 201, r.text
    assert (await client.get(f"/v2/a/blobs/{DIGEST}")).content == DATA


@pytest.mark.parametrize(
    ("value", "says_where"),
    [
        ("5-2", True),  # these two match the header's grammar: the handler refuses them and says
        ("bytes 0-9/5", True),  # where the upload ends, as for an out-of-order chunk
        ("abc", False),  # these two the framework refuses before any handler runs
        ("bytes=a-b", False),
    ],
)
async def test_malformed_content_range_is_416_range_invalid(
    client: httpx.AsyncClient, value: str, says_where: bool
) -> None:
    location = await start(client, "a")
    await client.patch(location, content=DATA[:3], headers=OCTET)
    r = await client.patch(location, content=DATA[3:13], headers={**OCTET, "Content-Range": value})
    assert r.status_code == 416
    assert error_codes(r) == ["RANGE_INVALID"]
    if says_where:
        assert r.headers["Range"] == "0-2"
        assert upload_id(r.headers["Location"]) == upload_id(location)
    assert (await client.get(location)).headers["Range"] == "0-2"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
async def test_chunk_of_another_media_type_is_refused(client: httpx.AsyncClient, content_type: str) -> None:
    location = await start(client, "a")
    r = await client.patch(location, content=DATA, headers={"Content-Type": content_type})
    assert r.status_code == 415
    assert error_codes(r) == ["BLOB_UPLOAD_INVALID"]
    assert (await client.get(location)).headers["Range"] == "0-0"


async def test_chunk_without_content_type_is_taken(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    r = await client.patch(location, content=DATA)
    assert r.status_code == 202
    assert r.headers["Range"] == f"0-{len(DATA) - 1}"


# --- GET status ----------------------------------------------------------------------------------


async def test_status_is_204_with_range_and_location(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    r = await client.get(location)
    assert r.status_code == 204
    assert r.headers["Range"] == "0-0"
    assert r.headers["Docker-Upload-UUID"] == upload_id(location)
    assert upload_id(r.headers["Location"]) == upload_id(location)
    await client.patch(location, content=DATA, headers=OCTET)
    r = await client.get(location)
    assert r.status_code == 204
    assert r.headers["Range"] == f"0-{len(DATA) - 1}"
    assert r.content == b""


async def test_status_without_state_token(client: httpx.AsyncClient) -> None:
    """The token is a check, not a key: a URL without it still names the session."""
    location = await start(client, "a")
    bare = urlunsplit(urlsplit(location)._replace(query=""))
    assert (await client.get(bare)).status_code == 204


# --- PUT -----------------------------------------------------------------------------------------


async def test_put_with_the_whole_body(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    r = await client.put(with_query(location, digest=DIGEST), content=DATA, headers=OCTET)
    assert r.status_code == 201
    assert r.headers["Docker-Content-Digest"] == DIGEST
    assert (await client.get(f"/v2/a/blobs/{DIGEST}")).content == DATA


async def test_put_with_a_final_chunk(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    r = await client.patch(location, content=DATA[:10], headers=chunk_headers(0, DATA[:10]))
    r = await client.put(
        with_query(r.headers["Location"], digest=DIGEST),
        content=DATA[10:],
        headers=chunk_headers(10, DATA[10:]),
    )
    assert r.status_code == 201, r.text
    assert (await client.get(f"/v2/a/blobs/{DIGEST}")).content == DATA


async def test_put_with_wrong_digest_discards_the_upload(client: httpx.AsyncClient, state: AppState) -> None:
    location = await start(client, "a")
    await client.patch(location, content=DATA, headers=OCTET)
    wrong = sha256(b"something else")
    r = await client.put(with_query(location, digest=wrong))
    assert r.status_code == 400
    assert error_codes(r) == ["DIGEST_INVALID"]
    await assert_no_session(client, location)
    assert sessions(state.registry.driver, "a") == []
    await assert_not_stored(client, state, "a", wrong, DIGEST)
    r = await client.put(with_query(location, digest=DIGEST))  # too late: the session is gone
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UPLOAD_UNKNOWN"]


async def test_put_with_wrong_digest_and_body_discards_the_upload(
    client: httpx.AsyncClient, state: AppState
) -> None:
    location = await start(client, "a")
    wrong = sha256(b"something else")
    r = await client.put(with_query(location, digest=wrong), content=DATA, headers=OCTET)
    assert r.status_code == 400
    assert error_codes(r) == ["DIGEST_INVALID"]
    await assert_no_session(client, location)
    await assert_not_stored(client, state, "a", wrong, DIGEST)


async def test_put_without_digest_is_400_digest_invalid(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    await client.patch(location, content=DATA, headers=OCTET)
    r = await client.put(location)
    assert r.status_code == 400
    assert error_codes(r) == ["DIGEST_INVALID"]
    # the session survives a request it refused before reading
    r = await client.get(location)
    assert r.status_code == 204
    assert r.headers["Range"] == f"0-{len(DATA) - 1}"
    assert (await client.put(with_query(location, digest=DIGEST))).status_code == 201


@pytest.mark.parametrize("digest", ["sha256:abc", "sha256:" + "A" * 64, "md5:" + "0" * 32])
async def test_put_with_malformed_digest_is_400(client: httpx.AsyncClient, digest: str) -> None:
    location = await start(client, "a")
    r = await client.put(with_query(location, digest=digest), content=DATA, headers=OCTET)
    assert r.status_code == 400
    assert error_codes(r) == ["DIGEST_INVALID"]


async def test_zero_byte_blob(client: httpx.AsyncClient, state: AppState) -> None:
    empty = sha256(b"")
    location = await start(client, "a")
    r = await client.put(with_query(location, digest=empty), headers={"Content-Length": "0"})
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == empty
    r = await client.get(f"/v2/a/blobs/{empty}")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Content-Length"] == "0"
    r = await client.post("/v2/b/blobs/uploads/", params={"digest": empty}, content=b"", headers=OCTET)
    assert r.status_code == 201
    assert sessions(state.registry.driver, "a") == sessions(state.registry.driver, "b") == []


async def test_multi_mib_blob_in_many_chunks(client: httpx.AsyncClient) -> None:
    data = bytes(range(251)) * 16_000  # ~3.8 MiB, a length no power of two divides
    digest = sha256(data)
    location, offset, size = await start(client, "a"), 0, 100_003
    while offset < len(data):
        chunk = data[offset : offset + size]
        r = await client.patch(location, content=chunk, headers=chunk_headers(offset, chunk))
        assert r.status_code == 202
        offset += len(chunk)
        location = r.headers["Location"]
    assert r.headers["Range"] == f"0-{len(data) - 1}"
    r = await client.put(with_query(location, digest=digest))
    assert r.status_code == 201
    r = await client.get(f"/v2/a/blobs/{digest}")
    assert len(r.content) == len(data)
    assert sha256(r.content) == digest


async def test_hash_state_survives_a_restart(client: httpx.AsyncClient, state: AppState) -> None:
    """Another replica (or a restart) continues the session: the digest is recomputed from storage."""
    location = await start(client, "a")
    await client.patch(location, content=DATA[:20], headers=OCTET)
    state.registry.hashers.drop(("a", upload_id(location)))
    await client.patch(location, content=DATA[20:], headers=OCTET)
    state.registry.hashers.drop(("a", upload_id(location)))
    assert (await client.put(with_query(location, digest=DIGEST))).status_code == 201


# --- DELETE and unknown sessions -----------------------------------------------------------------


async def test_delete_cancels_the_session(client: httpx.AsyncClient, state: AppState) -> None:
    location = await start(client, "a")
    await client.patch(location, content=DATA, headers=OCTET)
    r = await client.delete(location)
    assert r.status_code == 204
    assert r.content == b""
    await assert_no_session(client, location)
    assert sessions(state.registry.driver, "a") == []
    r = await client.delete(location)
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UPLOAD_UNKNOWN"]
    r = await client.put(with_query(location, digest=DIGEST))
    assert r.status_code == 404
    await assert_not_stored(client, state, "a", DIGEST)


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_unknown_session_is_404_blob_upload_unknown(client: httpx.AsyncClient, method: str) -> None:
    await start(client, "a")
    url = f"/v2/a/blobs/uploads/{UNKNOWN_ID}"
    if method == "PUT":
        url += f"?digest={DIGEST}"
    r = await client.request(method, url, content=DATA if method in ("PATCH", "PUT") else None)
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UPLOAD_UNKNOWN"]


async def test_session_of_another_repository_is_unknown_here(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    r = await client.get(f"/v2/b/blobs/uploads/{upload_id(location)}")
    assert r.status_code == 404
    assert error_codes(r) == ["BLOB_UPLOAD_UNKNOWN"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_tampered_state_token_is_400_blob_upload_invalid(
    client: httpx.AsyncClient, state: AppState, method: str
) -> None:
    location = await start(client, "a")
    parts = urlsplit(location)
    tampered = urlunsplit(
        parts._replace(query="_state=" + sign_upload(b"another secret", "a", upload_id(location)))
    )
    if method == "PUT":
        tampered = with_query(tampered, digest=DIGEST)
    r = await client.request(method, tampered, content=DATA if method in ("PATCH", "PUT") else None)
    assert r.status_code == 400
    assert error_codes(r) == ["BLOB_UPLOAD_INVALID"]
    r = await client.get(location)  # the session is untouched
    assert r.status_code == 204
    assert r.headers["Range"] == "0-0"


async def test_state_token_of_another_repository_is_refused(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    moved = location.replace("/v2/a/", "/v2/b/")
    r = await client.get(moved)
    assert r.status_code == 400
    assert error_codes(r) == ["BLOB_UPLOAD_INVALID"]


@pytest.mark.parametrize("uuid", ["not a uuid", "x;y", "a+b"])
async def test_malformed_session_id_is_400_blob_upload_invalid(client: httpx.AsyncClient, uuid: str) -> None:
    r = await client.get(f"/v2/a/blobs/uploads/{uuid}")
    assert r.status_code == 400
    assert error_codes(r) == ["BLOB_UPLOAD_INVALID"]


@pytest.mark.parametrize("uuid", ["%2E%2E", "%2E", "=", "...", "-"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_ids_no_session_can_have_are_unknown_and_touch_nothing(
    client: httpx.AsyncClient, state: AppState, uuid: str, method: str
) -> None:
    """The grammar admits ids that are no storage path (``..``, ``=``): 404, never 500 or a traversal."""
    location = await start(client, "a")
    await client.patch(location, content=DATA[:5], headers=OCTET)
    url = f"/v2/a/blobs/uploads/{uuid}" + (f"?digest={DIGEST}" if method == "PUT" else "")
    r = await client.request(method, url, content=DATA if method in ("PATCH", "PUT") else None)
    assert r.status_code == 404, r.text
    assert error_codes(r) == ["BLOB_UPLOAD_UNKNOWN"]
    assert sessions(state.registry.driver, "a") == [upload_id(location)]
    assert (await client.get(location)).headers["Range"] == "0-4"


async def test_finished_session_is_gone(client: httpx.AsyncClient) -> None:
    location = await start(client, "a")
    assert (
        await client.put(with_query(location, digest=DIGEST), content=DATA, headers=OCTET)
    ).status_code == 201
    for method in ("GET", "PATCH", "DELETE"):
        r = await client.request(method, location, content=DATA if method == "PATCH" else None)
        assert r.status_code == 404
        assert error_codes(r) == ["BLOB_UPLOAD_UNKNOWN"]


async def test_put_with_an_out_of_order_final_chunk_is_416(
    client: httpx.AsyncClient, state: AppState
) -> None:
    location = await start(client, "a")
    await client.patch(location, content=DATA[:10], headers=chunk_headers(0, DATA[:10]))
    r = await client.put(
        with_query(location, digest=DIGEST), content=DATA[12:], headers=chunk_headers(12, DATA[12:])
    )
    assert r.status_code == 416
    assert error_codes(r) == ["RANGE_INVALID"]
    assert r.headers["Range"] == "0-9"
    await assert_not_stored(client, state, "a", DIGEST)
    r = await client.put(
        with_query(location, digest=DIGEST), content=DATA[10:], headers=chunk_headers(10, DATA[10:])
    )
    assert r.status_code == 201


# --- Location forms ------------------------------------------------------------------------------


async def test_locations_follow_forwarded_headers(client: httpx.AsyncClient) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "registry.example:5443"}
    r = await client.post("/v2/a/blobs/uploads/", headers=forwarded)
    assert r.headers["Location"].startswith("https://registry.example:5443/v2/a/blobs/uploads/")
    r = await client.put(
        with_query(r.headers["Location"], digest=DIGEST), content=DATA, headers={**OCTET, **forwarded}
    )
    assert r.headers["Location"] == f"https://registry.example:5443/v2/a/blobs/{DIGEST}"


# the Location is built before any storage call: one driver
@pytest.mark.parametrize("driver", ["inmemory"], indirect=True)
async def test_locations_follow_the_standard_forwarded_header(client: httpx.AsyncClient) -> None:
    """RFC 7239 ``Forwarded`` (a proxy that sends no X-Forwarded-*), its first element; X-Forwarded-* win."""
    forwarded = {"Forwarded": 'for=10.0.0.1;proto=https;host="front.example:8443", for=10.0.0.2;host=inner'}
    r = await client.post("/v2/a/blobs/uploads/", headers=forwarded)
    assert r.headers["Location"].startswith("https://front.example:8443/v2/a/blobs/uploads/")
    both = {**forwarded, "X-Forwarded-Proto": "http", "X-Forwarded-Host": "legacy.example"}
    r = await client.post("/v2/a/blobs/uploads/", headers=both)
    assert r.headers["Location"].startswith("http://legacy.example/v2/a/blobs/uploads/")


class TestRelativeLocations:
    @pytest.fixture
    def state(self, driver: StorageDriver, policy: Policy) -> AppState:
        return AppState(registry=Registry(driver, policy), secret=b"test-secret", relative_urls=True)

    async def test_locations_are_paths(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/v2/a/blobs/uploads/")
        location = r.headers["Location"]
        assert location.startswith(f"/v2/a/blobs/uploads/{upload_id(location)}?_state=")
        r = await client.patch(location, content=DATA, headers=OCTET)
        assert r.headers["Location"].startswith("/v2/a/blobs/uploads/")
        r = await client.put(with_query(location, digest=DIGEST))
        assert r.headers["Location"] == f"/v2/a/blobs/{DIGEST}"


class TestConfiguredHost:
    @pytest.fixture
    def state(self, driver: StorageDriver, policy: Policy) -> AppState:
        return AppState(
            registry=Registry(driver, policy), secret=b"test-secret", host="https://public.example/"
        )

    async def test_locations_use_http_host(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/v2/a/blobs/uploads/", headers={"X-Forwarded-Host": "ignored.example"})
        assert r.headers["Location"].startswith("https://public.example/v2/a/blobs/uploads/")


# --- policy --------------------------------------------------------------------------------------


class TestReadOnly:
    @pytest.fixture
    def policy(self) -> Policy:
        return Policy(read_only=True)

    async def test_post_is_405_unsupported(self, client: httpx.AsyncClient, state: AppState) -> None:
        for params in ({}, {"digest": DIGEST}):
            r = await client.post("/v2/a/blobs/uploads/", params=params, content=DATA, headers=OCTET)
            assert r.status_code == 405
            assert error_codes(r) == ["UNSUPPORTED"]
        assert sessions(state.registry.driver, "a") == []
        assert not blob_stored(state.registry.driver, DIGEST)

    @pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
    async def test_existing_session_cannot_change(
        self, client: httpx.AsyncClient, state: AppState, method: str
    ) -> None:
        session = state.registry.repository("a").uploads.start()
        location = f"/v2/a/blobs/uploads/{session.uuid}?_state={sign_upload(state.secret, 'a', session.uuid)}"
        url = with_query(location, digest=DIGEST) if method == "PUT" else location
        r = await client.request(method, url, content=DATA if method != "DELETE" else None)
        assert r.status_code == 405
        assert error_codes(r) == ["UNSUPPORTED"]
        r = await client.get(location)  # reading the status is still allowed
        assert r.status_code == 204
        assert r.headers["Range"] == "0-0"
        assert not blob_stored(state.registry.driver, DIGEST)


class TestDeletesDisabled:
    @pytest.fixture
    def policy(self) -> Policy:
        return Policy(delete_enabled=False)

    async def test_uploads_and_their_cancellation_still_work(
        self, client: httpx.AsyncClient, state: AppState
    ) -> None:
        """``storage.delete.enabled`` governs deleting content, not abandoning an upload."""
        location = await start(client, "a")
        assert (await client.delete(location)).status_code == 204
        assert sessions(state.registry.driver, "a") == []
        location = await start(client, "a")
        r = await client.put(with_query(location, digest=DIGEST), content=DATA, headers=OCTET)
        assert r.status_code == 201


async def test_repository_named_like_an_entity_can_upload(client: httpx.AsyncClient) -> None:
    """``c/manifests`` is a valid repository name: its upload PUT is not a manifest PUT."""
    data = b"\x00\xffbinary layer"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = await client.post("/v2/c/manifests/blobs/uploads/")
    assert start.status_code == 202, start.text
    location = start.headers["location"]
    done = await client.put(
        f"{location}&digest={digest}", content=data, headers={"Content-Type": "application/octet-stream"}
    )
    assert done.status_code == 201, done.text
    assert (await client.get(f"/v2/c/manifests/blobs/{digest}")).content == data
