"""The conformance suite every blob descriptor cache passes: subclass :class:`CacheConformance`, give a ``cache``.

A backend's whole test file::

    class TestMemoryCache(CacheConformance):
        @pytest.fixture
        def cache(self):
            return MemoryCache()

A backend shared between processes also overrides ``peer``: a second provider on the same store (another
Redis client), so the suite checks that one instance sees the other's sets and clears. By default the peer
is the cache itself. Digests are random per test, so a store shared between tests does no harm.
"""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from registry_impl.storage.cache.base import BlobDescriptorCacheProvider, Descriptor

__all__ = ["CacheConformance", "random_digest"]

OCTET = "application/octet-stream"
JSON = "application/json"


def random_digest(algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, os.urandom(16)).hexdigest()}"


def blob(size: int = 10, media_type: str = OCTET) -> Descriptor:
    return Descriptor(random_digest(), size, media_type)


class CacheConformance:
    """``test_*`` methods over a ``cache`` fixture (and ``peer``, defaulting to the same cache)."""

    @pytest.fixture
    def peer(self, cache: BlobDescriptorCacheProvider) -> BlobDescriptorCacheProvider:
        return cache

    # ---- misses and validation ----

    def test_empty_cache_misses(self, cache: BlobDescriptorCacheProvider) -> None:
        digest = random_digest()
        assert cache.stat(digest) is None
        assert cache.repository_scoped("foo/bar").stat(digest) is None

    def test_empty_repository_name_is_refused(self, cache: BlobDescriptorCacheProvider) -> None:
        with pytest.raises(ValueError):
            cache.repository_scoped("")

    @pytest.mark.parametrize("digest", ["", "abc", "sha256:", ":abc", "sha256:a b"])
    def test_invalid_digest_is_refused(self, cache: BlobDescriptorCacheProvider, digest: str) -> None:
        descriptor = Descriptor(random_digest(), 10)
        with pytest.raises(ValueError):
            cache.set_descriptor(digest, descriptor)
        with pytest.raises(ValueError):
            cache.repository_scoped("foo/bar").set_descriptor(digest, descriptor)

    @pytest.mark.parametrize("descriptor", [Descriptor("", 10), Descriptor("sha256:abc", -1)])
    def test_invalid_descriptor_is_refused(
        self, cache: BlobDescriptorCacheProvider, descriptor: Descriptor
    ) -> None:
        digest = random_digest()
        with pytest.raises(ValueError):
            cache.repository_scoped("foo/bar").set_descriptor(digest, descriptor)
        assert cache.stat(digest) is None

    # ---- set and read ----

    def test_global_set_and_stat(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        cache.set_descriptor(descriptor.digest, descriptor)
        assert cache.stat(descriptor.digest) == descriptor

    def test_global_set_is_not_membership(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        cache.set_descriptor(descriptor.digest, descriptor)
        assert cache.repository_scoped("foo/bar").stat(descriptor.digest) is None

    def test_scoped_set_fills_repository_and_global(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        cache.repository_scoped("foo/bar").set_descriptor(descriptor.digest, descriptor)
        assert cache.repository_scoped("foo/bar").stat(descriptor.digest) == descriptor
        assert cache.stat(descriptor.digest) == descriptor

    def test_membership_is_per_repository(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        cache.repository_scoped("foo/bar").set_descriptor(descriptor.digest, descriptor)
        for other in ("foo", "foo/bar/baz", "foo/ba", "other"):
            assert cache.repository_scoped(other).stat(descriptor.digest) is None, other

    @pytest.mark.parametrize("size", [0, 1, 2**31, 2**53])
    def test_sizes_round_trip(self, cache: BlobDescriptorCacheProvider, size: int) -> None:
        descriptor = blob(size)
        cache.repository_scoped("r").set_descriptor(descriptor.digest, descriptor)
        assert cache.repository_scoped("r").stat(descriptor.digest) == descriptor

    def test_other_algorithm_also_sets_canonical_digest(self, cache: BlobDescriptorCacheProvider) -> None:
        local = random_digest("sha384")
        descriptor = blob()
        scope = cache.repository_scoped("foo/bar")
        scope.set_descriptor(local, descriptor)
        assert scope.stat(local) == descriptor
        assert cache.stat(local) == descriptor
        assert cache.stat(descriptor.digest) == descriptor

    def test_repository_media_type_overrides_only_there(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        cache.repository_scoped("a").set_descriptor(descriptor.digest, descriptor)
        as_json = Descriptor(descriptor.digest, descriptor.size, JSON)
        cache.repository_scoped("b").set_descriptor(descriptor.digest, as_json)
        assert cache.repository_scoped("b").stat(descriptor.digest) == as_json
        assert cache.repository_scoped("a").stat(descriptor.digest) == descriptor
        assert cache.stat(descriptor.digest) == descriptor  # the first media type stays registry-wide

    def test_set_twice_is_idempotent(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        scope = cache.repository_scoped("r")
        scope.set_descriptor(descriptor.digest, descriptor)
        scope.set_descriptor(descriptor.digest, descriptor)
        assert scope.stat(descriptor.digest) == descriptor

    # ---- clear ----

    def test_scoped_clear_forgets_membership_only_there(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        for name in ("a", "b"):
            cache.repository_scoped(name).set_descriptor(descriptor.digest, descriptor)
        cache.repository_scoped("a").clear(descriptor.digest)
        assert cache.repository_scoped("a").stat(descriptor.digest) is None
        assert cache.repository_scoped("b").stat(descriptor.digest) == descriptor
        assert cache.stat(descriptor.digest) == descriptor  # the data is still there

    def test_global_clear_hides_it_from_every_repository(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        for name in ("a", "b/c"):
            cache.repository_scoped(name).set_descriptor(descriptor.digest, descriptor)
        cache.clear(descriptor.digest)
        assert cache.stat(descriptor.digest) is None
        for name in ("a", "b/c"):
            assert cache.repository_scoped(name).stat(descriptor.digest) is None

    def test_clear_of_unknown_is_a_no_op(self, cache: BlobDescriptorCacheProvider) -> None:
        digest = random_digest()
        cache.clear(digest)
        cache.repository_scoped("r").clear(digest)
        assert cache.stat(digest) is None

    def test_set_after_clear(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptor = blob()
        scope = cache.repository_scoped("r")
        scope.set_descriptor(descriptor.digest, descriptor)
        cache.clear(descriptor.digest)
        scope.clear(descriptor.digest)
        scope.set_descriptor(descriptor.digest, descriptor)
        assert scope.stat(descriptor.digest) == descriptor

    # ---- sharing and concurrency ----

    def test_peer_sees_sets_and_clears(
        self, cache: BlobDescriptorCacheProvider, peer: BlobDescriptorCacheProvider
    ) -> None:
        descriptor = blob()
        cache.repository_scoped("r").set_descriptor(descriptor.digest, descriptor)
        assert peer.repository_scoped("r").stat(descriptor.digest) == descriptor
        peer.repository_scoped("r").clear(descriptor.digest)
        assert cache.repository_scoped("r").stat(descriptor.digest) is None
        assert cache.stat(descriptor.digest) == descriptor
        peer.clear(descriptor.digest)
        assert cache.stat(descriptor.digest) is None

    def test_concurrent_use(self, cache: BlobDescriptorCacheProvider) -> None:
        descriptors = [blob(i) for i in range(50)]
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                scope = cache.repository_scoped(name)
                for descriptor in descriptors:
                    scope.set_descriptor(descriptor.digest, descriptor)
                    found = scope.stat(descriptor.digest)
                    assert found in (descriptor, None)  # None only if a bounded cache evicted it
                    scope.clear(descriptor.digest)
                    assert scope.stat(descriptor.digest) is None
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"repo{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[0]
