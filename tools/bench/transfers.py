"""The registry protocol steps of a push and a pull, timed on the client; blob bodies stream from disk.

Upload Locations are followed as given: distribution's carry a signed ``_state`` query that must be kept, so
``digest=`` is appended with ``&`` rather than passed as httpx ``params`` (which would replace the query).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import httpx
from registry_toolkit.bench import rawhttp
from registry_toolkit.bench.loads import LoadFailed, curl_download, curl_upload
from registry_toolkit.bench.payloads import OCI_MANIFEST, BlobFile, Image, sha256

OCTET = {"Content-Type": "application/octet-stream"}


def _expect(response: httpx.Response, status: int, what: str) -> httpx.Response:
    if response.status_code != status:
        raise LoadFailed(f"{what}: expected {status}, got {response.status_code}: {response.text[:300]}")
    return response


def _location(response: httpx.Response) -> str:
    return urljoin(str(response.url), response.headers["location"])


def with_digest(location: str, digest: str) -> str:
    return f"{location}{'&' if '?' in location else '?'}digest={digest}"


def start_upload(client: httpx.Client, repository: str) -> str:
    """POST an upload session; the absolute Location to continue it."""
    return _location(_expect(client.post(f"/v2/{repository}/blobs/uploads/"), 202, "POST upload"))


def push_monolithic(client: httpx.Client, repository: str, blob: BlobFile) -> float:
    """POST, then one PUT ``?digest=`` carrying the whole file (curl -T); seconds for both (the PUT's by curl's
    clock, see ``loads.Transfer``)."""
    started = time.perf_counter()
    url = with_digest(start_upload(client, repository), blob.digest)
    posted = time.perf_counter() - started
    done = curl_upload(url, blob.path, method="PUT")
    if done.status != 201:
        raise LoadFailed(f"monolithic PUT: expected 201, got {done.status}")
    return posted + done.seconds


def push_single(base_url: str, repository: str, blob: BlobFile) -> float:
    """One POST ``?digest=`` carrying the whole file (OCI's single-request upload); seconds."""
    url = with_digest(f"{base_url}/v2/{repository}/blobs/uploads/", blob.digest)
    done = curl_upload(url, blob.path, method="POST")
    if done.status != 201:
        raise LoadFailed(f"single-request POST: expected 201, got {done.status}")
    return done.seconds


def push_chunked(base_url: str, repository: str, blob: BlobFile, chunk: int) -> float:
    """POST, PATCH ``chunk`` bytes at a time with Content-Range, then PUT ``?digest=``; seconds for all.

    Over one keep-alive connection of ``rawhttp`` (each chunk sent from the file with sendfile), so that the
    client's own time between a response and the next request stays small (see ``rawhttp``).
    """
    started = time.perf_counter()
    with rawhttp.Connection(base_url) as http, blob.path.open("rb") as source:
        location = _raw_expect(http.request("POST", f"/v2/{repository}/blobs/uploads/"), 202, "POST upload")
        offset = 0
        while offset < blob.size:
            length = min(chunk, blob.size - offset)
            headers = {**OCTET, "Content-Range": f"{offset}-{offset + length - 1}"}
            answer = http.request("PATCH", location, headers, source, offset, length)
            location = urljoin(
                urljoin(base_url + "/", location), _raw_expect(answer, 202, f"PATCH at {offset}")
            )
            offset += length
        _raw_expect(http.request("PUT", with_digest(location, blob.digest)), 201, "PUT after chunks")
    return time.perf_counter() - started


def _raw_expect(answer: rawhttp.Answer, status: int, what: str) -> str:
    """The answer's Location (empty when it has none), once its status is ``status``."""
    if answer.status != status:
        text = answer.body[:300].decode("utf-8", "replace")
        raise LoadFailed(f"{what}: expected {status}, got {answer.status}: {text}")
    return answer.headers.get("location", "")


def pull(base_url: str, path: str, size: int) -> float:
    """GET ``base_url + path`` into /dev/null with curl; seconds."""
    done = curl_download(base_url + path)
    if done.status != 200 or done.size != size:
        raise LoadFailed(f"GET {path}: status {done.status}, {done.size} of {size} bytes")
    return float(done.seconds)


def put_blob(client: httpx.Client, repository: str, data: bytes) -> None:
    """A small blob in one monolithic PUT."""
    url = with_digest(start_upload(client, repository), sha256(data))
    _expect(client.put(url, content=data, headers=OCTET), 201, "PUT blob")


def put_manifest(client: httpx.Client, repository: str, reference: str, image: Image) -> None:
    headers = {"Content-Type": OCI_MANIFEST}
    response = client.put(f"/v2/{repository}/manifests/{reference}", content=image.manifest, headers=headers)
    _expect(response, 201, f"PUT manifest {repository}:{reference}")


def push_image(
    client: httpx.Client, repository: str, image: Image, tags: list[str], parallel: int = 8
) -> None:
    """The image's blobs, then its manifest under every tag (``parallel`` PUTs in flight)."""
    put_blob(client, repository, image.config)
    put_blob(client, repository, image.layer)
    put_manifest(client, repository, tags[0], image)
    with ThreadPoolExecutor(parallel) as pool:
        for _ in pool.map(lambda tag: put_manifest(client, repository, tag, image), tags[1:]):
            pass
