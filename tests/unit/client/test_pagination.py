"""Link-header pagination of tags and the catalog; the referrers tag-schema fallback."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from registry_client import RegistryClient
from registry_client.errors import ClientError
from registry_client.pagination import MAX_PAGES, next_link

TAGS = [f"t{i:02d}" for i in range(7)]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ('</v2/a/tags/list?last=b&n=2>; rel="next"', "/v2/a/tags/list?last=b&n=2"),
        ("</v2/_catalog?last=x&n=1>; rel=next", "/v2/_catalog?last=x&n=1"),
        ('<https://o.example/p>; rel="prev", </v2/next>; type="x"; rel="Next last"', "/v2/next"),
        ('</v2/x>; rel="prev"', None),
        ("", None),
        (None, None),
    ],
)
def test_next_link(header: str | None, target: str | None) -> None:
    request = httpx.Request("GET", "http://r.test/v2/a/tags/list")
    response = httpx.Response(200, headers={"Link": header} if header is not None else {}, request=request)
    assert next_link(response) == (f"http://r.test{target}" if target and target.startswith("/") else target)


def paged(request: httpx.Request) -> httpx.Response:
    query = parse_qs(request.url.query.decode())
    n = int(query.get("n", ["3"])[0])
    last = query.get("last", [""])[0]
    key = "repositories" if request.url.path == "/v2/_catalog" else "tags"
    rest = [t for t in TAGS if t > last]
    page, more = rest[:n], len(rest) > n
    headers = {"Link": f'<{request.url.path}?last={page[-1]}&n={n}>; rel="next"'} if more else {}
    body = {key: page} if key == "repositories" else {"name": "a", "tags": page}
    return httpx.Response(200, json=body, headers=headers)


def test_tags_follow_link_to_the_end() -> None:
    requests: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return paged(request)

    with RegistryClient("http://r.test", transport=httpx.MockTransport(handle)) as client:
        assert client.tags.list("a", page_size=2) == TAGS
    assert requests[0] == "http://r.test/v2/a/tags/list?n=2"
    assert len(requests) == 4


def test_catalog_follows_link() -> None:
    with RegistryClient("http://r.test", transport=httpx.MockTransport(paged)) as client:
        assert client.catalog.list() == TAGS


def test_a_link_loop_stops() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"tags": ["x"]}, headers={"Link": '</v2/a/tags/list>; rel="next"'})

    with RegistryClient("http://r.test", transport=httpx.MockTransport(handle)) as client:
        assert client.tags.list("a") == ["x"]


def test_referrers_fall_back_to_the_tag_schema_on_a_bare_404() -> None:
    digest = "sha256:" + "c" * 64
    index: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + "d" * 64,
                "size": 9,
                "artifactType": "application/x-sig",
            },
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + "e" * 64,
                "size": 9,
                "artifactType": "application/x-sbom",
            },
        ],
    }

    def handle(request: httpx.Request) -> httpx.Response:
        if "/referrers/" in request.url.path:
            return httpx.Response(404, text="404 page not found")
        assert request.url.path == "/v2/a/manifests/sha256-" + "c" * 64
        return httpx.Response(200, json=index, headers={"Content-Type": index["mediaType"]})

    with RegistryClient("http://r.test", transport=httpx.MockTransport(handle)) as client:
        assert [d.artifact_type for d in client.referrers.list("a", digest)] == [
            "application/x-sig",
            "application/x-sbom",
        ]
        assert [d.digest for d in client.referrers.list("a", digest, "application/x-sbom")] == [
            "sha256:" + "e" * 64
        ]


def test_a_link_to_another_server_is_not_followed() -> None:
    hosts: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        link = '<http://other.test/v2/a/tags/list?last=t0>; rel="next"'
        return httpx.Response(200, json={"name": "a", "tags": ["t0"]}, headers={"Link": link})

    client = RegistryClient("http://r.test", transport=httpx.MockTransport(handle))
    with client, pytest.raises(ClientError, match="another server"):
        client.tags.list("a")
    assert hosts == ["r.test"]


def test_a_listing_that_never_ends_stops_at_max_pages() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        n = int(parse_qs(request.url.query.decode()).get("last", ["0"])[0])
        link = f'</v2/a/tags/list?last={n + 1}>; rel="next"'
        return httpx.Response(200, json={"name": "a", "tags": [f"t{n}"]}, headers={"Link": link})

    client = RegistryClient("http://r.test", transport=httpx.MockTransport(handle))
    with client, pytest.raises(ClientError, match=f"more than {MAX_PAGES} pages"):
        client.tags.list("a")
