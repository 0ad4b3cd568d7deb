"""A directory on a disk-backed filesystem, for what only happens on a disk.

Synced filesystem writers append large bodies with ``O_DIRECT`` on disks and buffered on tmpfs/ramfs
(``registry_impl.storage.driver.direct``). Where pytest's temporary directories are in memory (Debian 13
mounts ``/tmp`` as tmpfs), the tiers that must exercise the disk path run under ``/var/tmp`` instead.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from registry_impl.storage.driver import direct

MEMORY = ("tmpfs", "ramfs")


@contextmanager
def on_disk(path: Path) -> Iterator[Path]:
    """``path`` itself when it lies on a disk-backed filesystem, else a fresh directory under ``/var/tmp``
    (removed afterwards)."""
    if direct.filesystem_type(str(path)) not in MEMORY:
        yield path
        return
    root = Path(tempfile.mkdtemp(dir="/var/tmp", prefix=f"registry-{path.name}-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
