"""The in-memory blob descriptor cache: the shared suite, plus its bound and LRU order."""

from __future__ import annotations

import pytest

from registry_impl.storage.cache.base import Descriptor
from registry_impl.storage.cache.conformance import CacheConformance, random_digest
from registry_impl.storage.cache.memory import MemoryCache


class TestMemoryCache(CacheConformance):
    @pytest.fixture
    def cache(self) -> MemoryCache:
        return MemoryCache()


def descriptor() -> Descriptor:
    return Descriptor(random_digest(), 1)


def test_bounded_by_entries_least_recently_used_first() -> None:
    cache = MemoryCache(size=3)
    first, second, third, fourth = (descriptor() for _ in range(4))
    for d in (first, second, third):
        cache.set_descriptor(d.digest, d)
    assert cache.stat(first.digest) == first  # now the most recent
    cache.set_descriptor(fourth.digest, fourth)
    assert len(cache) == 3
    assert cache.stat(second.digest) is None
    assert [cache.stat(d.digest) for d in (first, third, fourth)] == [first, third, fourth]


def test_repository_entries_count_towards_the_bound() -> None:
    cache = MemoryCache(size=4)
    scope = cache.repository_scoped("r")
    blobs = [descriptor() for _ in range(3)]
    for d in blobs:
        scope.set_descriptor(d.digest, d)  # two entries each: registry-wide and membership
    assert len(cache) == 4
    assert scope.stat(blobs[0].digest) is None
    assert scope.stat(blobs[2].digest) == blobs[2]


@pytest.mark.parametrize("size", [0, -1])
def test_size_zero_or_less_is_unbounded(size: int) -> None:
    cache = MemoryCache(size=size)
    for _ in range(100):
        d = descriptor()
        cache.set_descriptor(d.digest, d)
    assert len(cache) == 100
