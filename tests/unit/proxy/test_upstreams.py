"""proxy configuration (distribution's section and the ``upstreams`` extension) and the choice of upstream."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from registry_impl.config import ConfigError, parse_config
from registry_impl.errors import Unsupported
from registry_impl.proxy import PullThroughCache

pytestmark = pytest.mark.unit

MINIMAL = "version: 0.1\nstorage: {inmemory: {}}\n"


def cache_of(section: str) -> PullThroughCache:
    config = parse_config(MINIMAL + textwrap.dedent(section), {})
    assert not config.refused
    cache = PullThroughCache.from_config(config.proxy)
    assert cache is not None
    return cache


def test_no_proxy_section_means_no_cache() -> None:
    assert PullThroughCache.from_config(parse_config(MINIMAL, {}).proxy) is None


def test_distributions_remoteurl_proxies_every_repository_under_its_own_name() -> None:
    cache = cache_of(
        "proxy: {remoteurl: 'https://registry-1.docker.io', username: u, password: p, ttl: 1h}\n"
    )
    upstream = cache.upstream_for("library/alpine")
    assert upstream is not None
    assert upstream.url == "https://registry-1.docker.io" and upstream.ttl == timedelta(hours=1)
    assert upstream.remote_name("library/alpine") == "library/alpine"


def test_upstreams_by_prefix_longest_first_whole_components_the_rest_local() -> None:
    cache = cache_of(
        """\
        proxy:
          upstreams:
            - {prefix: docker.io, remoteurl: 'https://registry-1.docker.io'}
            - {prefix: docker.io/library, remoteurl: 'https://mirror.example', ttl: 0s}
            - {prefix: ghcr, remoteurl: 'https://ghcr.io', username: bot, password: token}
        """
    )
    hub = cache.upstream_for("docker.io/bitnami/redis")
    assert hub is not None and hub.url == "https://registry-1.docker.io"
    assert hub.remote_name("docker.io/bitnami/redis") == "bitnami/redis"
    library = cache.upstream_for("docker.io/library/alpine")
    assert library is not None and library.url == "https://mirror.example" and library.ttl == timedelta(0)
    assert library.remote_name("docker.io/library/alpine") == "alpine"
    ghcr = cache.upstream_for("ghcr/org/app")
    assert ghcr is not None and ghcr.config.username == "bot" and ghcr.ttl == timedelta(hours=168)
    for local in ("ghcrx/app", "ghcr", "mine/docker.io/app", "docker.iox/a"):
        assert cache.upstream_for(local) is None, local


def test_remoteurl_beside_upstreams_takes_every_other_repository() -> None:
    cache = cache_of(
        "proxy: {remoteurl: 'http://fallback:5000', upstreams: [{prefix: q, remoteurl: 'https://quay.io'}]}\n"
    )
    first, rest = cache.upstream_for("q/a/b"), cache.upstream_for("a/b")
    assert first is not None and first.url == "https://quay.io" and first.remote_name("q/a/b") == "a/b"
    assert rest is not None and rest.url == "http://fallback:5000" and rest.remote_name("a/b") == "a/b"


def test_writes_into_a_proxied_repository_are_unsupported_and_elsewhere_allowed() -> None:
    cache = cache_of("proxy: {upstreams: [{prefix: hub, remoteurl: 'https://registry-1.docker.io'}]}\n")
    with pytest.raises(Unsupported) as raised:
        cache.refuse_writes("hub/library/alpine")
    assert raised.value.detail == {"name": "hub/library/alpine", "upstream": "https://registry-1.docker.io"}
    cache.refuse_writes("local/app")


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("proxy: {upstreams: [{remoteurl: 'https://a.example'}]}", "proxy.upstreams[0].prefix"),
        (
            "proxy: {upstreams: [{prefix: 'Upper', remoteurl: 'https://a.example'}]}",
            "proxy.upstreams[0].prefix",
        ),
        ("proxy: {upstreams: [{prefix: a}]}", "proxy.upstreams[0].remoteurl"),
        ("proxy: {upstreams: [{prefix: a, remoteurl: 'ftp://a.example'}]}", "proxy.upstreams[0].remoteurl"),
        (
            "proxy: {upstreams: [{prefix: a, remoteurl: 'https://a'}, {prefix: a/, remoteurl: 'https://b'}]}",
            "proxy.upstreams[1].prefix",
        ),
        ("proxy: {upstreams: [{prefix: a, remoteurl: 'https://a', ttl: -1s}]}", "proxy.upstreams[0].ttl"),
    ],
)
def test_a_bad_upstream_names_its_key(section: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(MINIMAL + section + "\n", {})
    assert key in str(raised.value)
