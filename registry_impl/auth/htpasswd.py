"""``auth.htpasswd``: Basic authentication against an Apache htpasswd file of bcrypt hashes.

The file is parsed as distribution parses it (blank lines and ``#`` comments skipped, ``user:hash``,
a line without ``:`` makes the whole file invalid) and re-read whenever its modification time, size
or inode changes. Only bcrypt hashes (``$2a$``, ``$2b$``, ``$2y$``) can match. A missing file is
created with one user, ``docker``, whose random password is logged once (as distribution does).

bcrypt is slow on purpose (tens of milliseconds), and clients send Basic credentials with every
request: a check runs in a worker thread, and a success is remembered as an HMAC of the password
under a per-process random key (never the password), compared in constant time, until the user's
hash changes. An unknown user costs a bcrypt check too, so timing does not tell users apart.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import bcrypt

from registry_impl.auth.base import (
    Access,
    AccessController,
    Challenge,
    Grant,
    basic_credentials,
    go_quote,
    option,
)

__all__ = ["HtpasswdAccessController", "HtpasswdError", "HtpasswdFile", "parse_htpasswd"]

log = logging.getLogger("registry.auth")

BCRYPT_PREFIXES = (b"$2a$", b"$2b$", b"$2y$")
BCRYPT_MAX_PASSWORD = 72  # bcrypt reads no further; Apache and Go compare the same prefix
# A valid cost-10 hash of a random string nobody kept: unknown users are checked against it.
_DUMMY_HASH = b"$2b$10$ilcmF1412EhT8gScHq88duhs1EB1o.CgeSreFqDIbbNei5hvOTy96"
_CACHE_LIMIT = 4096


class HtpasswdError(ValueError):
    """The htpasswd file cannot be parsed."""


def parse_htpasswd(text: str) -> dict[str, bytes]:
    """``user → hash`` of an htpasswd file's text; a later line for the same user wins."""
    entries: dict[str, bytes] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, colon, hashed = line.partition(":")
        if not colon:
            raise HtpasswdError(f"htpasswd: invalid entry at line {number}: {raw!r}")
        entries[user] = hashed.encode("utf-8", "surrogateescape")
    return entries


def _check(password: bytes, hashed: bytes) -> bool:
    if not hashed.startswith(BCRYPT_PREFIXES):
        log.error("htpasswd: the entry is not a bcrypt hash; only bcrypt is supported")
        bcrypt.checkpw(password, _DUMMY_HASH)
        return False
    try:
        return bool(bcrypt.checkpw(password, hashed))
    except ValueError as exc:  # a malformed bcrypt string
        log.error("htpasswd: unusable bcrypt hash: %s", exc)
        return False


@dataclass(frozen=True)
class _Stamp:
    mtime_ns: int
    size: int
    inode: int


class HtpasswdFile:
    """The users of one htpasswd file, reloaded when the file changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: _Stamp | None = None
        self._entries: dict[str, bytes] = {}
        self._key = secrets.token_bytes(32)
        self._verified: dict[tuple[str, bytes], bytes] = {}

    def entries(self) -> Mapping[str, bytes]:
        """The current entries, re-read first if the file changed (OSError/HtpasswdError when unusable)."""
        info = os.stat(self.path)
        stamp = _Stamp(info.st_mtime_ns, info.st_size, info.st_ino)
        if stamp != self._stamp:
            entries = parse_htpasswd(self.path.read_text(encoding="utf-8", errors="surrogateescape"))
            self._entries, self._stamp = entries, stamp
            self._verified.clear()
        return self._entries

    def _mac(self, password: bytes) -> bytes:
        return hmac.new(self._key, password, hashlib.sha256).digest()

    async def verify(self, username: str, password: str) -> bool:
        """Whether ``password`` is ``username``'s (bcrypt in a thread unless this pair was verified before)."""
        hashed = self.entries().get(username)
        secret = password.encode("utf-8", "surrogateescape")[:BCRYPT_MAX_PASSWORD]
        if hashed is None:
            await anyio.to_thread.run_sync(bcrypt.checkpw, secret, _DUMMY_HASH)
            return False
        known = self._verified.get((username, hashed))
        if known is not None and hmac.compare_digest(known, self._mac(secret)):
            return True
        if not await anyio.to_thread.run_sync(_check, secret, hashed):
            return False
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.pop(next(iter(self._verified)))
        self._verified[(username, hashed)] = self._mac(secret)
        return True


def provision(path: Path) -> None:
    """Create a missing htpasswd file with user ``docker`` and a random password, logged once."""
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = secrets.token_urlsafe(32)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker provisioned it first
        return
    with os.fdopen(fd, "w") as out:
        out.write(f"docker:{hashed}")
    log.warning("htpasswd is missing, provisioning with default user: user=docker password=%s", password)


class HtpasswdAccessController(AccessController):
    """Any user of the file may do anything; everyone else gets ``Basic realm="…"``."""

    def __init__(self, realm: str, path: str | Path) -> None:
        self.realm = realm
        self.users = HtpasswdFile(path)
        self.challenge = f"Basic realm={go_quote(realm)}"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> HtpasswdAccessController:
        realm, path = option(params, "realm", "htpasswd"), Path(option(params, "path", "htpasswd"))
        provision(path)
        return cls(realm, path)

    async def authorized(self, headers: Mapping[str, str], access: Sequence[Access]) -> Grant:
        credentials = basic_credentials(headers)
        if credentials is None:
            raise Challenge(self.challenge, "invalid credential", access)
        if not await self.users.verify(credentials.username, credentials.password):
            log.warning("htpasswd: authentication failure for user %r", credentials.username)
            raise Challenge(self.challenge, "authentication failure", access)
        return Grant(user=credentials.username)
