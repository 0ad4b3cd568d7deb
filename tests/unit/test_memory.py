"""The trim threshold follows uploads: raised when a large body starts, lowered when an upload completes or
once an interval passes without one (``registry_impl.memory``), and left alone when the environment set it."""

from __future__ import annotations

import pytest

from registry_impl import memory


class RecordingLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.trims = 0

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.trims += 1
        return 1


@pytest.fixture
def heap(monkeypatch: pytest.MonkeyPatch) -> memory._Heap:
    fresh = memory._Heap()
    fresh.adjustable = True
    monkeypatch.setattr(memory, "_heap", fresh)
    return fresh


def test_an_upload_raises_the_threshold_once_and_a_quiet_interval_lowers_it(heap: memory._Heap) -> None:
    libc = RecordingLibc()
    memory.keep_heap_for_uploads(libc)
    memory.keep_heap_for_uploads(libc)  # the next PATCH: already raised
    assert libc.calls == [(memory.M_TRIM_THRESHOLD, memory.UPLOAD_TRIM_THRESHOLD)]

    memory._lower_after_uploads(libc, heap.last_upload + 0.1, interval=0.5)  # an upload moments ago
    assert len(libc.calls) == 1
    memory._lower_after_uploads(libc, heap.last_upload + 0.5, interval=0.5)
    assert libc.calls[-1] == (memory.M_TRIM_THRESHOLD, memory.TRIM_THRESHOLD)
    memory._lower_after_uploads(libc, heap.last_upload + 5, interval=0.5)  # lowered already
    assert len(libc.calls) == 2

    memory.keep_heap_for_uploads(libc)  # the next upload raises it again
    assert libc.calls[-1] == (memory.M_TRIM_THRESHOLD, memory.UPLOAD_TRIM_THRESHOLD)


def test_a_completed_upload_lowers_it_at_once(heap: memory._Heap) -> None:
    libc = RecordingLibc()
    memory.keep_heap_for_uploads(libc)
    memory.lower_heap_after_upload(libc)
    memory.lower_heap_after_upload(libc)  # a second completion: lowered already
    assert libc.calls == [
        (memory.M_TRIM_THRESHOLD, memory.UPLOAD_TRIM_THRESHOLD),
        (memory.M_TRIM_THRESHOLD, memory.TRIM_THRESHOLD),
    ]
    assert libc.trims == 1  # what the upload left free, handed back then


def test_a_threshold_the_environment_set_is_left_alone(
    heap: memory._Heap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", str(1 << 20))
    assert memory.body_chunks_from_heap() is False
    assert heap.adjustable is False
    libc = RecordingLibc()
    memory.keep_heap_for_uploads(libc)
    memory.lower_heap_after_upload(libc)
    memory._lower_after_uploads(libc, heap.last_upload + 5, interval=0.5)
    assert libc.calls == []


def test_release_after_walk_empties_the_free_lists() -> None:
    """What a storage walk leaves on the interpreter's free lists is freed (a full collection empties them;
    nothing unreachable is needed for it)."""
    import sys

    before = sys.getallocatedblocks()
    made = [(i, i + 1, str(i)) for i in range(20_000)]  # tuples of one size: 2 000 stay on its free list
    del made
    kept = sys.getallocatedblocks() - before
    memory.release_after_walk()
    assert sys.getallocatedblocks() - before < kept - 1_500
