"""One notification endpoint's settings (a ``notifications.endpoints[]`` entry) and which events it takes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from registry_impl.notifications.events import Target

__all__ = ["DEFAULT_MAX_PENDING", "Endpoint", "redacted"]

#: distribution's defaults for an endpoint that leaves them out (``notifications/endpoint.go``).
DEFAULT_TIMEOUT = 1.0
DEFAULT_THRESHOLD = 10
DEFAULT_BACKOFF = 1.0
#: ``maxpending`` (this project's key): envelopes kept for one endpoint before the oldest are dropped.
DEFAULT_MAX_PENDING = 10_000


def redacted(url: str) -> str:
    """``url`` with the password of its user info replaced by ``xxxxx`` (as Go's ``URL.Redacted``), for
    what the registry shows of an endpoint: logs, ``/debug/notifications``, metric labels."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:xxxxx@{parts.netloc.rpartition('@')[2]}"))


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, timedelta) and value > timedelta(0):
        return value.total_seconds()
    return default


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    threshold: int = DEFAULT_THRESHOLD
    backoff: float = DEFAULT_BACKOFF
    ignored_media_types: frozenset[str] = frozenset()
    ignored_actions: frozenset[str] = frozenset()
    max_pending: int = DEFAULT_MAX_PENDING
    #: What the outbox's directory is named from, when not ``name``: an endpoint without a ``name`` is shown
    #: by its redacted URL, while its outbox stays where the whole URL put it (pending envelopes are kept).
    key_name: str = ""

    @classmethod
    def from_config(cls, entry: Mapping[str, Any]) -> Endpoint:
        """An entry as the configuration decoded it (durations as timedelta, headers as lists)."""
        ignore = entry.get("ignore") or {}
        media_types = [*(entry.get("ignoredmediatypes") or ()), *(ignore.get("mediatypes") or ())]
        threshold = int(entry.get("threshold") or 0)
        max_pending = int(entry.get("maxpending") or 0)
        return cls(
            name=str(entry.get("name") or redacted(str(entry["url"]))),
            key_name=str(entry.get("name") or entry["url"]),
            url=str(entry["url"]),
            headers={str(k): tuple(str(v) for v in vs) for k, vs in (entry.get("headers") or {}).items()},
            timeout=_seconds(entry.get("timeout"), DEFAULT_TIMEOUT),
            threshold=threshold if threshold > 0 else DEFAULT_THRESHOLD,
            backoff=_seconds(entry.get("backoff"), DEFAULT_BACKOFF),
            ignored_media_types=frozenset(media_types),
            ignored_actions=frozenset(ignore.get("actions") or ()),
            max_pending=max_pending if max_pending > 0 else DEFAULT_MAX_PENDING,
        )

    @property
    def key(self) -> str:
        """The endpoint's directory name in the outbox: its name made path-safe, plus a hash of the name
        (two names that read alike never share an outbox)."""
        name = self.key_name or self.name
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip("._")[:64] or "endpoint"
        return f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"

    @property
    def shown_url(self) -> str:
        """The URL as logs and ``/debug/notifications`` show it: without the password it may carry."""
        return redacted(self.url)

    def takes(self, target: Target) -> bool:
        """Whether this endpoint wants events about ``target`` (``ignore.actions``, ``ignore.mediatypes``)."""
        if target.action in self.ignored_actions:
            return False
        return not (target.media_type and target.media_type in self.ignored_media_types)

    def wants(self, action: str) -> bool:
        """Whether any event of ``action`` can reach this endpoint (pulls cost nothing when none wants them)."""
        return action not in self.ignored_actions
