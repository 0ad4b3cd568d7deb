"""Server-side copies in parts: the byte ranges, and UploadPartCopy run concurrently into one upload."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .bucket import Bucket
from .settings import MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE

__all__ = ["copy_parts", "multipart_copy", "part_ranges"]


def part_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Inclusive ranges covering ``size`` bytes, each ``part_size`` long but the last.

    Every range is at least 5 MiB unless ``size`` itself is smaller (a short tail joins the range before it),
    so the ranges may also open an upload that more parts follow. The part size grows when ``size`` would
    need more than S3's 10 000 parts, and stays small enough for a merged tail to fit S3's 5 GiB part limit.
    """
    part_size = min(max(part_size, -(-size // MAX_PARTS)), MAX_PART_SIZE - MIN_PART_SIZE)
    starts = list(range(0, size, part_size))
    if len(starts) > 1 and size - starts[-1] < MIN_PART_SIZE:
        starts.pop()
    return [(start, (starts[i + 1] if i + 1 < len(starts) else size) - 1) for i, start in enumerate(starts)]


def copy_parts(
    bucket: Bucket,
    key: str,
    upload_id: str,
    source: str,
    size: int,
    *,
    first_number: int = 1,
    if_match: str | None = None,
) -> list[tuple[int, str]]:
    """Copy ``size`` bytes of ``source`` into the upload as parts numbered from ``first_number``.

    Ranges are ``multipartcopychunksize`` long; at most ``multipartcopymaxconcurrency`` run at once.
    Returns (part number, ETag) pairs; on a failure the copies not yet started are dropped, and the
    failure is raised once the running ones have ended.
    """
    ranges = part_ranges(size, bucket.settings.multipartcopychunksize)
    workers = min(bucket.settings.multipartcopymaxconcurrency, len(ranges))
    numbers = range(first_number, first_number + len(ranges))
    if workers <= 1:
        return [
            (number, bucket.copy_part(key, upload_id, number, source, first, last, if_match))
            for number, (first, last) in zip(numbers, ranges, strict=True)
        ]
    pool = ThreadPoolExecutor(workers, thread_name_prefix="s3-copy")
    try:
        futures = [
            (number, pool.submit(bucket.copy_part, key, upload_id, number, source, first, last, if_match))
            for number, (first, last) in zip(numbers, ranges, strict=True)
        ]
        return [(number, future.result()) for number, future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def multipart_copy(bucket: Bucket, source: str, key: str, size: int) -> None:
    """Copy ``source`` to ``key`` server-side in parts (objects above the copy threshold, or over 5 GiB)."""
    upload_id = bucket.create_upload(key)
    try:
        parts = copy_parts(bucket, key, upload_id, source, size)
        bucket.complete(key, upload_id, parts)
    except BaseException:
        bucket.abort(key, upload_id)
        raise
