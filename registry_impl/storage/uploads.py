"""Upload sessions: data appended under ``_uploads/<uuid>/``, hashed as it arrives, adopted as a blob."""

from __future__ import annotations

import contextlib
import threading
import uuid as uuidlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from registry_impl import hashstate
from registry_impl.digests import Digest, Hasher, new_hasher
from registry_impl.errors import BlobUploadUnknown, DigestInvalid
from registry_impl.hashstate import ResumableSha256
from registry_impl.storage import paths
from registry_impl.storage.blobclaims import blobs_claimed
from registry_impl.storage.blobs import BlobInfo, BlobStore
from registry_impl.storage.driver.base import (
    FileWriter,
    InvalidPathError,
    PathNotFoundError,
    StorageDriver,
    check_path,
)
from registry_impl.storage.hashpipe import Hashed, HashPipe

READ_CHUNK = 1 << 20


@dataclass
class CachedHasher:
    """A session's running hash in this process: ``hasher`` at ``size`` bytes once ``hashed`` (None: it is) is
    done; ``from_storage``: its state came from storage; ``version``: the data's when it was written (S3);
    ``saved``: where the state this process last saved in storage for the session stands (None: unknown)."""

    size: int
    hasher: Hasher
    from_storage: bool = False
    version: str | None = None
    saved: int | None = None
    hashed: Hashed | None = None

    def complete(self) -> Hasher | None:
        """The hasher, once it holds all ``size`` bytes (blocks until then); None if its hashing failed."""
        if self.hashed is not None and self.hashed.wait() is not None:
            return None
        return self.hasher


@dataclass(frozen=True)
class UploadStatus:
    uuid: str
    size: int
    started_at: str
    version: str | None = None  # the data's ``FileInfo.version`` when it was read (S3)


class HasherCache:
    """Running sha256 state of uploads this process has written, keyed by (repository, uuid).

    A session continued by another process (another worker, a replica, after a restart) finds the
    state saved in storage by ``UploadWriter.close`` (``hashstates/sha256/<offset>``, Go's format) and
    hashes only the data after it (see ``UploadStore.saved_state``); only without any state is the whole
    session re-hashed from storage. An entry remembers whether its state came from storage: such a
    state was written without a sync, so a mismatch at completion is checked against the data. An entry's
    hashing may still be running (a PATCH is answered once its bytes are written): the next request of the
    session hashes after it, and completion waits for it. At most ``limit`` sessions are kept (the least
    recently written go first), so abandoned sessions cost no memory beyond it; a session whose entry went
    resumes from storage.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], CachedHasher] = OrderedDict()
        self.limit = limit

    def take(self, key: tuple[str, str], size: int, version: str | None = None) -> CachedHasher | None:
        """The session's hasher at ``size`` bytes (its hashing may still be running: see
        ``CachedHasher.complete``), if cached — and, where the storage has versions, cached for exactly the
        data's ``version``: a writer that lost its claim may have published other bytes of the same size
        since (S3), which this state does not hash. A hashing that already failed is not returned."""
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is None or entry.size != size or (version is not None and entry.version != version):
            return None
        if entry.hashed is not None and entry.hashed.done and entry.hashed.error is not None:
            return None
        return entry

    def holds(self, key: tuple[str, str], size: int) -> bool:
        with self._lock:
            entry = self._entries.get(key)
        return entry is not None and entry.size == size

    def put(self, key: tuple[str, str], entry: CachedHasher) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)

    def drop(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._entries.pop(key, None)


class UploadWriter:
    """Appends to one session, writing and hashing on a second core for large bodies (see ``HashPipe``);
    ``close`` keeps the hash state for the next request, in this process and (unless the session is about
    to be completed) in storage."""

    def __init__(self, uploads: UploadStore, status: UploadStatus) -> None:
        self.uploads = uploads
        self.key = (uploads.name, status.uuid)
        # The hash state first: finding it may read the data, and on S3 a read completes a pending multipart
        # upload, which a writer opened before would then fail to append to (its tail's version is gone).
        self._start = status.size
        cached = self._hasher(status.uuid, status.version)
        path = paths.upload_data_path(uploads.name, status.uuid)
        self._writer: FileWriter = uploads.driver.writer(path, append=True)
        if self._writer.size != self._start:  # the session moved since its status was read
            self._start = self._writer.size
            cached = CachedHasher(self._start, uploads.rehash(status.uuid, "sha256"))
        self.hasher, self._from_storage, self._saved = cached.hasher, cached.from_storage, cached.saved
        self._handed = 0
        # A previous request's hashing of this session may still be running: this one's continues after it.
        self._pipe = HashPipe(self.hasher, self._writer.write, after=cached.hashed)

    def _hasher(self, upload_id: str, version: str | None) -> CachedHasher:
        """The session's hasher at ``self._start`` bytes, from this process, a state in storage or the data."""
        uploads = self.uploads
        cached = uploads.hashers.take(self.key, self._start, version)
        if cached is not None:
            return cached
        found = uploads.saved_state_at(upload_id, self._start)
        if found is not None:
            hasher, offset = found
            return CachedHasher(self._start, hasher, from_storage=True, saved=offset)
        return CachedHasher(self._start, uploads.rehash(upload_id, "sha256"))

    @property
    def size(self) -> int:
        """What the session holds once every byte handed to ``write`` is written."""
        return self._start + self._handed

    def write(self, data: bytes) -> None:
        self._pipe.update(data)
        self._handed += len(data)

    def end_writing(self, then: Callable[[], None]) -> bool:
        """No more ``write``: ``then()`` runs on the writing thread once it has written every byte handed
        over, so ``close`` waits for nothing of them; False when every byte is written already (``then`` is
        not called). See ``HashPipe.end_writing``."""
        return self._pipe.end_writing(then)

    def abandon(self) -> None:
        """Stop without publishing what this request wrote (its claim on the session was lost: another
        holder may have written since): the data stays as the last ``close`` left it where the backend
        publishes at close (S3), and this process forgets the session's hash state."""
        self.uploads.hashers.drop(self.key)
        self._writer.abandon()  # first: what the pipe still holds fails to reach the writer
        with contextlib.suppress(Exception):
            self._pipe.finish()

    def close(self, *, save_state: bool = True) -> None:
        """Wait for the writing thread, then flush (and sync) the data; a failed write is raised here.

        ``save_state``: the session continues: the answer waits for the bytes to be written, not for their
        hash, which completes on its own thread (the next request of the session in this process continues
        it); the state saved in storage, for another process continuing the session, is where the hash then
        stands (the rest is hashed from the data by whoever continues from it). The state is a cache (a
        process that finds none re-hashes the data), written without a sync: what the answer promises is the
        data, which the writer's close makes durable. Without ``save_state`` (the session is completed next)
        the hash is waited for.
        """
        hashed: Hashed | None = None
        try:
            if save_state:
                hashed = self._pipe.finish_writing()
            else:
                self._pipe.finish()
        finally:
            self._writer.close()
        size = self._writer.size
        running = hashed is not None and not hashed.done
        if save_state and size != self._start and isinstance(self.hasher, ResumableSha256):
            state = self._pipe.snapshot if running else (size, self.hasher.marshal())
            if state is not None and state[0] > 0 and state[0] != self._saved:
                self._save_state(*state)
        entry = CachedHasher(
            size,
            self.hasher,
            from_storage=self._from_storage,
            version=self._writer.version,
            saved=self._saved,
            hashed=hashed if running else None,
        )
        self.uploads.hashers.put(self.key, entry)

    def _save_state(self, offset: int, state: bytes) -> None:
        """The hash state at ``offset`` in storage, in place of the one saved before (one per session stays)."""
        name, upload_id = self.key
        driver = self.uploads.driver
        path = paths.upload_hashstate_path(name, upload_id, "sha256", offset)
        driver.put_content(path, state, durable=False)
        if self._saved is not None:
            with contextlib.suppress(PathNotFoundError):
                driver.delete(paths.upload_hashstate_path(name, upload_id, "sha256", self._saved))
        self._saved = offset


def _sha256() -> Hasher:
    """A fresh sha256 whose state can be saved, when libcrypto is there."""
    return ResumableSha256() if hashstate.available() else new_hasher("sha256")


class UploadStore:
    """The upload sessions of one repository."""

    def __init__(self, driver: StorageDriver, blobs: BlobStore, name: str, hashers: HasherCache) -> None:
        self.driver = driver
        self.blobs = blobs
        self.name = name
        self.hashers = hashers

    def start(self) -> UploadStatus:
        upload_id = str(uuidlib.uuid4())
        started = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        self.driver.put_content(paths.upload_started_at_path(self.name, upload_id), started.encode())
        self.driver.writer(paths.upload_data_path(self.name, upload_id)).close()
        self.hashers.put((self.name, upload_id), CachedHasher(0, _sha256()))  # its first body opens inline
        return UploadStatus(upload_id, 0, started)

    def check_id(self, upload_id: str) -> None:
        """BlobUploadUnknown for an id no storage path can hold: the API grammar allows "=" and "..",
        which the driver's path grammar refuses (every id this registry issues is a uuid4)."""
        try:
            if "/" in upload_id:
                raise InvalidPathError(upload_id)
            check_path(paths.upload_root(self.name, upload_id))
        except InvalidPathError as exc:
            raise BlobUploadUnknown(detail={"uuid": upload_id}) from exc

    def status(self, upload_id: str) -> UploadStatus:
        self.check_id(upload_id)
        try:
            started = self.driver.get_content(paths.upload_started_at_path(self.name, upload_id)).decode()
            data = self.driver.stat(paths.upload_data_path(self.name, upload_id))
        except PathNotFoundError as exc:
            raise BlobUploadUnknown(detail={"uuid": upload_id}) from exc
        return UploadStatus(upload_id, data.size, started, data.version)

    def writer(self, upload_id: str, status: UploadStatus | None = None) -> UploadWriter:
        """A writer appending to the session (``status``: where it stands, when the caller just read it)."""
        return UploadWriter(self, status if status is not None else self.status(upload_id))

    def resumes(self, upload_id: str, size: int) -> bool:
        """Whether this process holds the session's hash state at ``size`` bytes (a writer opens at once)."""
        return self.hashers.holds((self.name, upload_id), size)

    def saved_state(self, upload_id: str, size: int) -> Hasher | None:
        """The session's sha256 at ``size`` bytes from a state saved in storage (by any process): the one at
        exactly ``size``, else the latest below it with the data after it hashed from storage (a crash
        between the data's sync and the state's save, or a state saved before the hash caught up, costs the
        tail alone); None when no state fits."""
        found = self.saved_state_at(upload_id, size)
        return found[0] if found is not None else None

    def saved_state_at(self, upload_id: str, size: int) -> tuple[Hasher, int] | None:
        """``saved_state``, and the offset of the state it started from."""
        if not hashstate.available():
            return None
        exact = self._load_state(upload_id, size)
        if exact is not None:
            return exact, size
        try:
            names = self.driver.list_names(paths.upload_hashstates_root(self.name, upload_id, "sha256"))
        except PathNotFoundError:
            return None
        offsets = sorted((int(name) for name in names if name.isdigit() and int(name) < size), reverse=True)
        for offset in offsets:
            hasher = self._load_state(upload_id, offset)
            if hasher is not None and self._hash_tail(upload_id, hasher, size):
                return hasher, offset
        return None

    def _load_state(self, upload_id: str, offset: int) -> ResumableSha256 | None:
        try:
            state = self.driver.get_content(
                paths.upload_hashstate_path(self.name, upload_id, "sha256", offset)
            )
            hasher = ResumableSha256.unmarshal(state)
        except (PathNotFoundError, ValueError):
            return None
        return hasher if hasher.length == offset else None

    def _hash_tail(self, upload_id: str, hasher: ResumableSha256, size: int) -> bool:
        """Feed ``hasher`` the session's data from where it stands up to ``size``; False if the data ends first."""
        remaining = size - hasher.length
        with self.driver.reader(paths.upload_data_path(self.name, upload_id), hasher.length) as reader:
            while remaining > 0:
                chunk = reader.read(min(READ_CHUNK, remaining))
                if not chunk:
                    return False
                hasher.update(chunk)
                remaining -= len(chunk)
        return True

    def rehash(self, upload_id: str, algorithm: str) -> Hasher:
        """Hash the session's data from storage (no saved state fits, or another algorithm)."""
        hasher = _sha256() if algorithm == "sha256" else new_hasher(algorithm)
        if self.driver.stat(paths.upload_data_path(self.name, upload_id)).size == 0:
            return hasher
        with self.driver.reader(paths.upload_data_path(self.name, upload_id)) as reader:
            while chunk := reader.read(READ_CHUNK):
                hasher.update(chunk)
        return hasher

    def complete(self, upload_id: str, digest: Digest) -> BlobInfo:
        """Verify the data against ``digest`` and adopt it as a blob; a mismatch discards the upload.

        The caller holds the session's claim, so no writer is appending: the hash state (kept at exactly
        the data's size) describes the bytes that are moved into the blob store.
        """
        status = self.status(upload_id)
        key = (self.name, upload_id)
        hasher, saved = None, False
        if digest.algorithm == "sha256":
            cached = self.hashers.take(key, status.size, status.version)
            if cached is not None:
                hasher, saved = cached.complete(), cached.from_storage  # waits for a hashing still running
            if hasher is None and status.version is None:
                hasher = self.saved_state(upload_id, status.size)
                saved = hasher is not None
            # Where the data has versions (S3) and this process did not write the version it finds, a saved
            # state is not trusted either (it says nothing of which bytes it hashed): the data is re-hashed.
        if hasher is None:
            hasher = self.rehash(upload_id, digest.algorithm)
        actual = f"{digest.algorithm}:{hasher.hexdigest()}"
        if actual != str(digest) and saved:
            # A state from storage is a cache written without a sync: one a crash garbled (the right length,
            # other words) must not discard data the answers acknowledged. The data decides.
            actual = f"{digest.algorithm}:{self.rehash(upload_id, digest.algorithm).hexdigest()}"
        if actual != str(digest):
            self.cancel(upload_id)
            raise DigestInvalid(
                "provided digest did not match uploaded content",
                detail={"digest": str(digest), "actual": actual},
            )
        # Under the blob's claim, so online GC cannot delete what was just adopted; the layer link is written
        # fresh (its mtime protects the blob for GC's grace period even when the upload's bytes are old).
        with blobs_claimed(self.driver, [str(digest)]):
            self.blobs.adopt(paths.upload_data_path(self.name, upload_id), str(digest))
            self.driver.put_content(paths.layer_link_path(self.name, str(digest)), str(digest).encode())
        self._remove(upload_id)
        info = self.blobs.stat(str(digest))
        assert info is not None
        return info

    def cancel(self, upload_id: str) -> None:
        self.status(upload_id)
        self._remove(upload_id)

    def _remove(self, upload_id: str) -> None:
        self.hashers.drop((self.name, upload_id))
        with contextlib.suppress(PathNotFoundError):
            self.driver.delete(paths.upload_root(self.name, upload_id))
