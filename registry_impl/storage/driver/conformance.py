"""The conformance suite every storage driver passes: subclass :class:`DriverConformance`, give a ``driver``.

A backend's whole test file::

    class TestFilesystemDriver(DriverConformance):
        @pytest.fixture
        def driver(self, tmp_path):
            return FilesystemDriver(tmp_path)

Each test works under its own root ``/conformance-<random>`` (the ``scratch`` fixture) and declares what it
owns by taking paths from ``scratch.path(...)``. Teardown deletes the owned paths, then errors the test if
any *file* is still under the root (a driver leaked temp files, a cancel kept data, a move kept its source)
and if the root itself survives its own recursive delete. Empty directories are allowed in between, since
object stores have none. Nothing here assumes a local backend, so a future S3 test is a fixture too.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime, timedelta

import pytest

from registry_impl.storage.driver.base import (
    FileInfo,
    InvalidOffsetError,
    InvalidPathError,
    PathNotFoundError,
    StorageDriver,
    StorageDriverError,
    walk_key,
)

__all__ = ["DriverConformance", "Scratch", "payload"]

MIB = 1 << 20
SIZES = [0, 1, 2, 255, 4095, 4096, 4097, 65537, 5 * MIB + 1]
INVALID_PATHS = ["", "a", "a/b", "/a//b", "/a/", "//a", "/a/b c", "/a/é", "/a\\b", "/a\n"]
INVALID_PATHS += ["/..", "/../x", "/a/./b", "/a/.."]  # match distribution's regex, but traverse
CLOCK_SLACK = timedelta(seconds=5)
Operation = Callable[[StorageDriver, str], object]

# Each must raise PathNotFoundError for a path with nothing there.
MISSING: dict[str, Operation] = {
    "get_content": lambda driver, path: driver.get_content(path),
    "reader": lambda driver, path: driver.reader(path, 1),
    "writer(append=True)": lambda driver, path: driver.writer(path, append=True),
    "stat": lambda driver, path: driver.stat(path),
    "list": lambda driver, path: driver.list(path),
    "delete": lambda driver, path: driver.delete(path),
    "walk": lambda driver, path: list(driver.walk(path)),
    "move": lambda driver, path: driver.move(path, path + "-moved"),
}
# Every public method taking a path; each must raise InvalidPathError for a malformed one.
OPERATIONS: dict[str, Operation] = {
    **MISSING,
    "put_content": lambda driver, path: driver.put_content(path, b"x"),
    "writer": lambda driver, path: driver.writer(path),
    "move(dst)": lambda driver, path: driver.move("/src", path),
    "walk(start_after)": lambda driver, path: driver.walk("/", start_after=path),
    "redirect_url": lambda driver, path: driver.redirect_url("GET", path),
    "local_path": lambda driver, path: driver.local_path(path),
}


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-UTF-8-safe bytes of ``size``."""
    return random.Random(size * 7919 + seed).randbytes(size)


class Scratch:
    """A unique root on the driver under test; paths taken from :meth:`path` are owned and cleaned up."""

    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver
        self.root = f"/conformance-{uuid.uuid4().hex[:12]}"
        self.owned: list[str] = []

    def path(self, *parts: str) -> str:
        """An owned path ``<root>/<parts...>`` (a directory path owns everything under it)."""
        path = "/".join((self.root, *parts))
        self.owned.append(path)
        return path

    def cleanup(self) -> list[str]:
        """Delete what is owned and the root; return files that were still there (leaks)."""
        for path in self.owned:
            with suppress(PathNotFoundError):
                self.driver.delete(path)
        try:
            leaked = [info.path for info in self.driver.walk(self.root) if not info.is_dir]
        except PathNotFoundError:
            leaked = []
        with suppress(PathNotFoundError):
            self.driver.delete(self.root)
        with suppress(PathNotFoundError):
            self.driver.stat(self.root)
            leaked.append(f"{self.root} (survived its own delete)")
        return leaked


def _run_threads(count: int, target: Callable[[int], None]) -> None:
    """Run ``target(i)`` for each ``i < count``, all at once in threads; re-raise the first failure."""
    with ThreadPoolExecutor(count) as pool:
        for future in [pool.submit(target, i) for i in range(count)]:
            future.result()


class DriverConformance:
    """Every behaviour the registry relies on; subclasses provide the ``driver`` fixture."""

    #: Whether the backend holds shared claims side by side (S3 leases have one holder).
    shares_claims = True

    @pytest.fixture
    def scratch(self, driver: StorageDriver) -> Iterator[Scratch]:
        scratch = Scratch(driver)
        yield scratch
        leaked = scratch.cleanup()
        assert not leaked, f"{driver!r} left files behind: {leaked}"

    # ---- paths ----

    @pytest.mark.parametrize("name", ["a", "A-Z_0.9", ".hidden", "a..b", "-", "_", "x" * 200])
    def test_valid_path_components(self, driver: StorageDriver, scratch: Scratch, name: str) -> None:
        path = scratch.path(name, name)
        driver.put_content(path, b"ok")
        assert driver.get_content(path) == b"ok"
        assert driver.list(scratch.root) == [f"{scratch.root}/{name}"]

    @pytest.mark.parametrize("operation", sorted(OPERATIONS))
    @pytest.mark.parametrize("bad", INVALID_PATHS)
    def test_invalid_paths_rejected(self, driver: StorageDriver, operation: str, bad: str) -> None:
        with pytest.raises(InvalidPathError) as info:
            OPERATIONS[operation](driver, bad)
        assert (info.value.path, info.value.driver_name) == (bad, driver.name)

    def test_root_only_for_list_stat_walk(self, driver: StorageDriver, scratch: Scratch) -> None:
        driver.put_content(scratch.path("f"), b"x")
        assert scratch.root in driver.list("/")
        assert driver.stat("/").is_dir
        driver.walk("/")  # accepted (not iterated: a shared bucket may be large)
        for call in (driver.get_content, driver.delete, driver.reader, driver.writer):
            with pytest.raises(InvalidPathError):
                call("/")

    @pytest.mark.parametrize("operation", sorted(MISSING))
    def test_missing_paths(self, driver: StorageDriver, scratch: Scratch, operation: str) -> None:
        driver.put_content(scratch.path("dir", "file"), b"x")  # parents and a prefix-sharing sibling exist
        for missing in ("nope", "dir/nope", "dir/file/below", "di", "dir/fil"):
            path = f"{scratch.root}/{missing}"
            with pytest.raises(PathNotFoundError) as info:
                MISSING[operation](driver, path)
            assert (info.value.path, info.value.driver_name) == (path, driver.name)

    # ---- content ----

    @pytest.mark.parametrize("size", SIZES)
    def test_content_round_trip(self, driver: StorageDriver, scratch: Scratch, size: int) -> None:
        path = scratch.path("deep", "er", "file")
        driver.put_content(path, payload(size))
        assert driver.get_content(path) == payload(size)
        assert driver.stat(path).size == size

    def test_put_content_overwrites(self, driver: StorageDriver, scratch: Scratch) -> None:
        path = scratch.path("f")
        for content in (payload(3 * MIB), b"short", b"", payload(4097)):
            driver.put_content(path, content)
            assert driver.get_content(path) == content

    def test_get_content_of_directory(self, driver: StorageDriver, scratch: Scratch) -> None:
        driver.put_content(scratch.path("dir", "f"), b"x")
        with pytest.raises(PathNotFoundError):
            driver.get_content(f"{scratch.root}/dir")

    # ---- readers ----

    @pytest.mark.parametrize("where", [0, 1, 2 * MIB, 3 * MIB - 1, 3 * MIB, 3 * MIB + 1, 10 * MIB])
    def test_reader_at_offset(self, driver: StorageDriver, scratch: Scratch, where: int) -> None:
        path, content = scratch.path("f"), payload(3 * MIB)
        driver.put_content(path, content)
        with driver.reader(path, where) as stream:
            assert stream.read() == content[where:]

    def test_reader_in_chunks(self, driver: StorageDriver, scratch: Scratch) -> None:
        path, content = scratch.path("f"), payload(5 * MIB + 1)
        driver.put_content(path, content)
        with driver.reader(path, 7) as stream:
            chunks = iter(lambda: stream.read(65536), b"")
            assert b"".join(chunks) == content[7:]

    def test_reader_negative_offset(self, driver: StorageDriver, scratch: Scratch) -> None:
        path = scratch.path("f")
        driver.put_content(path, b"abc")
        with pytest.raises(InvalidOffsetError) as info:
            driver.reader(path, -1)
        assert info.value.offset == -1 and info.value.driver_name == driver.name

    def test_concurrent_readers(self, driver: StorageDriver, scratch: Scratch) -> None:
        path, content = scratch.path("f"), payload(2 * MIB)
        driver.put_content(path, content)

        def read(i: int) -> None:
            offset = i * 100_003
            with driver.reader(path, offset) as stream:
                assert stream.read() == content[offset:]

        _run_threads(10, read)

    # ---- writers ----

    @pytest.mark.parametrize("size", SIZES)
    def test_writer_round_trip(self, driver: StorageDriver, scratch: Scratch, size: int) -> None:
        path, content = scratch.path("w", "f"), payload(size)
        writer = driver.writer(path)
        for start in range(0, size, 1_000_003):
            assert writer.write(content[start : start + 1_000_003]) == len(content[start : start + 1_000_003])
            assert writer.size == min(start + 1_000_003, size)
        assert writer.size == size
        writer.commit()
        writer.close()  # after commit: a no-op
        assert driver.get_content(path) == content

    def test_writer_truncates(self, driver: StorageDriver, scratch: Scratch) -> None:
        path = scratch.path("f")
        driver.put_content(path, payload(4097))
        with driver.writer(path) as writer:
            assert writer.size == 0
            writer.write(b"new")
        assert driver.get_content(path) == b"new"

    @pytest.mark.parametrize("first", [0, 1, 4096, 5 * MIB + 1])
    def test_writer_append_resumes(self, driver: StorageDriver, scratch: Scratch, first: int) -> None:
        path, content = scratch.path("upload", "data"), payload(first + 3 * MIB + 5)
        with driver.writer(path) as writer:
            writer.write(content[:first])
        assert driver.get_content(path) == content[:first]  # close keeps the data
        for start in range(first, len(content), MIB):
            writer = driver.writer(path, append=True)
            assert writer.size == start
            writer.write(content[start : start + MIB])
            writer.close()
        writer = driver.writer(path, append=True)
        writer.commit()
        assert writer.size == len(content) == driver.stat(path).size
        assert driver.get_content(path) == content

    @pytest.mark.parametrize("close_first", [False, True])
    def test_writer_cancel(self, driver: StorageDriver, scratch: Scratch, close_first: bool) -> None:
        path = scratch.path("f")
        writer = driver.writer(path)
        writer.write(payload(4097))
        if close_first:
            writer.close()
        writer.cancel()
        with pytest.raises(PathNotFoundError):
            driver.stat(path)

    def test_writer_finished_states(self, driver: StorageDriver, scratch: Scratch) -> None:
        committed, cancelled = driver.writer(scratch.path("a")), driver.writer(scratch.path("b"))
        committed.commit()
        cancelled.cancel()
        for finished in (committed, cancelled):
            with pytest.raises(StorageDriverError):
                finished.write(b"x")
            for call in (finished.commit, finished.cancel):
                with pytest.raises(StorageDriverError):
                    call()
            finished.close()
        assert driver.get_content(committed.path) == b""

    # ---- stat ----

    def test_stat_file_and_directory(self, driver: StorageDriver, scratch: Scratch) -> None:
        before = datetime.now(UTC)
        path = scratch.path("dir", "f")
        driver.put_content(path, payload(4097))
        after = datetime.now(UTC)
        info = driver.stat(path)
        assert (info.path, info.size, info.is_dir) == (path, 4097, False)
        assert info.mod_time.utcoffset() == timedelta(0)
        assert before - CLOCK_SLACK <= info.mod_time <= after + CLOCK_SLACK
        directory = driver.stat(f"{scratch.root}/dir")
        assert (directory.path, directory.is_dir) == (f"{scratch.root}/dir", True)
        assert directory.mod_time.utcoffset() == timedelta(0)

    # ---- list ----

    def test_list_direct_children_sorted(self, driver: StorageDriver, scratch: Scratch) -> None:
        top = scratch.path("top")
        for name in ("b", "a", "c/deep/er", "c/x", "a-b", "A", "0"):
            driver.put_content(f"{top}/{name}", b"x")
        driver.put_content(f"{scratch.root}/top-sibling", b"x")  # shares the prefix "top"
        scratch.path("top-sibling")
        expected = [f"{top}/{name}" for name in ("0", "A", "a", "a-b", "b", "c")]
        assert driver.list(top) == expected
        assert driver.list(f"{top}/c") == [f"{top}/c/deep", f"{top}/c/x"]

    def test_list_names_matches_list(self, driver: StorageDriver, scratch: Scratch) -> None:
        top = scratch.path("names")
        for name in ("b", "a", "c/deep", "a-b"):
            driver.put_content(f"{top}/{name}", b"x")
        assert driver.list_names(top) == [path.rsplit("/", 1)[1] for path in driver.list(top)]
        with pytest.raises(PathNotFoundError):
            driver.list_names(f"{top}/missing")

    def test_directory_token_moves_when_entries_change(self, driver: StorageDriver, scratch: Scratch) -> None:
        """A token, when given, must differ after an entry is added or removed (None is always allowed)."""
        top = scratch.path("tokens")
        driver.put_content(f"{top}/a/link", b"x")
        seen: list[object] = []

        def add() -> None:
            driver.put_content(f"{top}/b/link", b"x")

        def remove() -> None:
            driver.delete(f"{top}/a")

        for change in (add, remove):
            deadline = time.monotonic() + 1.0
            token = driver.directory_token(top)
            while token is None and time.monotonic() < deadline:  # wait out a backend's quiet window
                time.sleep(0.02)
                token = driver.directory_token(top)
            change()
            after = driver.directory_token(top)
            if token is not None:
                assert after != token
            seen.append(token)

    def test_list_of_a_file(self, driver: StorageDriver, scratch: Scratch) -> None:
        path = scratch.path("f")
        driver.put_content(path, b"x")
        with pytest.raises(PathNotFoundError):
            driver.list(path)

    # ---- move ----

    def test_move(self, driver: StorageDriver, scratch: Scratch) -> None:
        src, dst = scratch.path("uploads", "u1", "data"), scratch.path("blobs", "ab", "abc", "data")
        driver.put_content(src, payload(4097))
        driver.move(src, dst)
        assert driver.get_content(dst) == payload(4097)
        with pytest.raises(PathNotFoundError):
            driver.stat(src)

    def test_move_overwrites(self, driver: StorageDriver, scratch: Scratch) -> None:
        src, dst = scratch.path("src"), scratch.path("dst")
        driver.put_content(src, b"new")
        driver.put_content(dst, payload(MIB))
        driver.move(src, dst)
        assert driver.get_content(dst) == b"new"
        with pytest.raises(PathNotFoundError):
            driver.get_content(src)

    def test_move_missing_source(self, driver: StorageDriver, scratch: Scratch) -> None:
        src, dst = scratch.path("src"), scratch.path("dst")
        driver.put_content(dst, b"keep")
        with pytest.raises(PathNotFoundError):
            driver.move(src, dst)
        assert driver.get_content(dst) == b"keep"

    # ---- delete ----

    def test_delete_file(self, driver: StorageDriver, scratch: Scratch) -> None:
        path, other = scratch.path("f"), scratch.path("f2")
        driver.put_content(path, b"x")
        driver.put_content(other, b"y")
        driver.delete(path)
        with pytest.raises(PathNotFoundError):
            driver.get_content(path)
        assert driver.get_content(other) == b"y"

    def test_delete_directory_recursive(self, driver: StorageDriver, scratch: Scratch) -> None:
        top = scratch.path("dir")
        siblings = [scratch.path("dir-x"), scratch.path("dirx"), scratch.path("di")]
        for name in ("a", "b/c", "b/d/e", "f/g/h/i"):
            driver.put_content(f"{top}/{name}", b"x")
        for sibling in siblings:
            driver.put_content(sibling, b"keep")
        driver.delete(top)
        for gone in (top, f"{top}/a", f"{top}/b/d/e"):
            with pytest.raises(PathNotFoundError):
                driver.stat(gone)
        assert [driver.get_content(sibling) for sibling in siblings] == [b"keep"] * 3

    # ---- walk ----

    WALK_FILES = ("a", "b/c", "b/d/e", "b-x", "b.y/z", "c")
    WALK_ORDER = ("a", "b", "b/c", "b/d", "b/d/e", "b-x", "b.y", "b.y/z", "c")

    def _walk_tree(self, driver: StorageDriver, scratch: Scratch) -> tuple[str, list[tuple[str, bool]]]:
        top = scratch.path("walk")
        for name in self.WALK_FILES:
            driver.put_content(f"{top}/{name}", name.encode())
        return top, [(f"{top}/{name}", name not in self.WALK_FILES) for name in self.WALK_ORDER]

    def test_walk_order(self, driver: StorageDriver, scratch: Scratch) -> None:
        top, expected = self._walk_tree(driver, scratch)
        infos = list(driver.walk(top))
        assert [(info.path, info.is_dir) for info in infos] == expected
        sizes = {info.path: info.size for info in infos if not info.is_dir}
        assert sizes == {f"{top}/{name}": len(name) for name in self.WALK_FILES}

    @pytest.mark.parametrize("index", range(len(WALK_ORDER)))
    def test_walk_start_after(self, driver: StorageDriver, scratch: Scratch, index: int) -> None:
        top, expected = self._walk_tree(driver, scratch)
        walked = [(info.path, info.is_dir) for info in driver.walk(top, start_after=expected[index][0])]
        assert walked == expected[index + 1 :]

    @pytest.mark.parametrize("hint", ["0", "b/a", "b/d/f", "b/e", "b-w", "bz", "d"])
    def test_walk_start_after_absent_path(self, driver: StorageDriver, scratch: Scratch, hint: str) -> None:
        top, expected = self._walk_tree(driver, scratch)
        walked = [info.path for info in driver.walk(top, start_after=f"{top}/{hint}")]
        key = tuple(hint.split("/"))
        assert walked == [path for path, _ in expected if tuple(path[len(top) + 1 :].split("/")) > key]

    @pytest.mark.parametrize("skipped", ["b", "b/d"])
    def test_walk_skip(self, driver: StorageDriver, scratch: Scratch, skipped: str) -> None:
        """A skipped directory is yielded, its contents are not, and the walk goes on after them; with
        ``start_after`` inside it, nothing of it is."""
        top, expected = self._walk_tree(driver, scratch)
        asked: list[str] = []

        def skip(info: FileInfo) -> bool:
            asked.append(info.path)
            return info.path == f"{top}/{skipped}"

        inside = f"{top}/{skipped}/"
        walked = [(info.path, info.is_dir) for info in driver.walk(top, skip=skip)]
        assert walked == [(path, is_dir) for path, is_dir in expected if not path.startswith(inside)]
        assert f"{top}/{skipped}" in asked
        assert not [path for path in asked if path.startswith(inside)]
        start = f"{top}/b/c"
        resumed = [info.path for info in driver.walk(top, start_after=start, skip=skip)]
        assert resumed == [
            path for path, _ in expected if walk_key(path) > walk_key(start) and not path.startswith(inside)
        ]

    # ---- optional capabilities ----

    def test_redirect_url_and_local_path(self, driver: StorageDriver, scratch: Scratch) -> None:
        path = scratch.path("f")
        driver.put_content(path, b"hello")
        url = driver.redirect_url("GET", path)
        assert url is None or url.startswith(("http://", "https://"))
        local = driver.local_path(path)
        if local is not None:
            with open(local, "rb") as f:
                assert f.read() == b"hello"

    # ---- concurrency ----

    def test_concurrent_writers(self, driver: StorageDriver, scratch: Scratch) -> None:
        top = scratch.path("many")

        def write(i: int) -> None:
            with driver.writer(f"{top}/shared/f{i}") as writer:
                for start in range(0, 300_000, 65536):
                    writer.write(payload(300_000, i)[start : start + 65536])

        _run_threads(16, write)
        for i in range(16):
            assert driver.get_content(f"{top}/shared/f{i}") == payload(300_000, i)

    def test_concurrent_put_same_path(self, driver: StorageDriver, scratch: Scratch) -> None:
        path, writers = scratch.path("f"), 6
        values = {payload(MIB, seed) for seed in range(writers)}
        driver.put_content(path, payload(MIB, 0))
        remaining, lock = [writers], threading.Lock()

        def put_or_read(i: int) -> None:
            if i >= writers:  # a reader: runs until every writer is done, then reads once more
                while True:
                    done = remaining[0] == 0
                    assert driver.get_content(path) in values, "a reader saw a partial value"
                    if done:
                        return
            try:
                for _ in range(5):
                    driver.put_content(path, payload(MIB, i))
            finally:
                with lock:
                    remaining[0] -= 1

        _run_threads(writers + 2, put_or_read)

    # ---- directories appear with their files; claims ----

    def test_directories_appear_with_their_file(self, driver: StorageDriver, scratch: Scratch) -> None:
        """A directory that a listing shows already holds the file that implied it (a tag directory is
        never seen without its link, even while it is being written)."""
        top, writers = scratch.path("dirs"), 4
        driver.put_content(f"{top}/seed", b"x")
        remaining, lock = [writers], threading.Lock()

        def write_or_list(i: int) -> None:
            if i < writers:
                try:
                    for n in range(15):
                        driver.put_content(f"{top}/d{i}-{n}/current/link", b"%d" % n)
                finally:
                    with lock:
                        remaining[0] -= 1
                return
            while remaining[0]:
                for child in driver.list(top):
                    if child.endswith("/seed"):
                        continue
                    try:  # listed, so its file must be there already
                        driver.get_content(f"{child}/current/link")
                    except PathNotFoundError:
                        pytest.fail(f"{child} was listed without the file that implied it")

        _run_threads(writers + 1, write_or_list)

    def test_claim_is_exclusive_until_released(self, driver: StorageDriver, scratch: Scratch) -> None:
        path, other = scratch.path("claims", "a"), scratch.path("claims", "b")
        first = driver.try_claim(path)
        assert first is not None
        assert driver.try_claim(path) is None, "a held claim was granted twice"
        second_path = driver.try_claim(other)
        assert second_path is not None, "claims on different paths must not block each other"
        first.renew()
        first.release()
        first.release()  # idempotent
        again = driver.try_claim(path)
        assert again is not None, "a released claim could not be taken again"
        again.release()
        second_path.release()

    def test_shared_claims_keep_exclusive_ones_out(self, driver: StorageDriver, scratch: Scratch) -> None:
        """Shared claims are held side by side (where the backend can share: ``shares_claims``; elsewhere a
        shared claim is exclusive), never alongside an exclusive one, in either order."""
        path = scratch.path("claims", "shared")
        first = driver.try_claim(path, shared=True)
        assert first is not None
        assert driver.try_claim(path) is None, "an exclusive claim was granted beside a shared one"
        second = driver.try_claim(path, shared=True)
        if self.shares_claims:
            assert second is not None, "a second shared claim was refused"
            first.release()
            assert driver.try_claim(path) is None, "an exclusive claim was granted beside a shared one left"
            second.release()
        else:
            assert second is None, "a backend that cannot share granted a shared claim twice"
            first.release()
        exclusive = driver.try_claim(path)
        assert exclusive is not None, "released shared claims kept the path held"
        assert driver.try_claim(path, shared=True) is None, (
            "a shared claim was granted beside an exclusive one"
        )
        exclusive.release()
        again = driver.try_claim(path, shared=True)
        assert again is not None
        again.release()

    def test_claim_race_has_one_winner(self, driver: StorageDriver, scratch: Scratch) -> None:
        path, rounds, contenders = scratch.path("claims", "race"), 5, 8
        barrier, won = threading.Barrier(contenders), []

        def contend(i: int) -> None:
            barrier.wait()
            claim = driver.try_claim(path)
            if claim is not None:
                won.append(claim)

        for _ in range(rounds):
            _run_threads(contenders, contend)
            assert len(won) == 1, f"{len(won)} contenders hold one claim"
            won.pop().release()
