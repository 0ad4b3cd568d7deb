"""What the hostile cases run against: the servers of one kind, placeholders filled in, the tree outside storage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hostile.cases import PASSWORD, USER, basic
from testkit.processes import Server
from testkit.rawhttp import exchange, request_bytes

BLOB = b"hostile tier blob\n"
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


@dataclass
class Target:
    """The servers of one kind and what the cases need of them."""

    kind: str
    root: Path
    open: Server
    auth: Server
    snapshot: dict[str, tuple[int, int]]

    def server(self, name: str) -> Server:
        return self.auth if name == "auth" else self.open

    def upload_path(self) -> str:
        """A fresh upload session on the open server: its Location's path and query."""
        answer = exchange(
            "127.0.0.1",
            self.open.port,
            request_bytes("POST", "/v2/hostile/blobs/uploads/", [("Content-Length", "0")]),
        )
        location = answer.header("location") or ""
        assert answer.status == 202 and location, answer.describe()
        parts = urlsplit(location)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path


def tree_snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Every file and directory under ``root`` outside ``skip`` (and not a log): path → (size, mtime)."""
    found: dict[str, tuple[int, int]] = {}
    for path in root.rglob("*"):
        if any(path == s or s in path.parents for s in skip) or path.suffix == ".log":
            continue
        stat = path.lstat()
        found[str(path.relative_to(root))] = (stat.st_size if path.is_file() else 0, stat.st_mtime_ns)
    return found


def data_roots(root: Path) -> tuple[Path, ...]:
    return (root / "open" / "data", root / "auth" / "data")


def fill(payload: bytes, target: Target) -> bytes:
    """Replace the case placeholders ({UPLOAD} only when present: it opens a session)."""
    if b"{UPLOAD}" in payload:
        payload = payload.replace(b"{UPLOAD}", target.upload_path().encode())
    return payload.replace(b"{BLOB}", BLOB_DIGEST.encode()).replace(
        b"{CREDS}", basic(USER, PASSWORD).encode()
    )
