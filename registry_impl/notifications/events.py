"""The event records and their envelope, field for field as distribution's ``notifications/event.go``.

An envelope (``application/vnd.docker.distribution.events.v1+json``, distribution 2.x's media type) is
``{"events": [event, ...]}``; each event::

    {"id", "timestamp", "action",                          action: push | pull | mount | delete
     "target": {"mediaType", "digest", "size", "length", "repository", "fromRepository", "url", "tag",
                "references"},                             empty fields left out (Go's omitempty)
     "request": {"id", "addr", "host", "method", "useragent"},
     "actor": {"name"},                                    {} without authentication
     "source": {"addr", "instanceID"}}

Pure values and functions: nothing here does I/O.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "EVENTS_MEDIA_TYPE",
    "LAYER_MEDIA_TYPE",
    "RequestRecord",
    "SourceRecord",
    "Target",
    "envelope",
    "event",
]

EVENTS_MEDIA_TYPE = "application/vnd.docker.distribution.events.v1+json"
#: What distribution's blob store reports as a blob's media type in push, pull and mount events.
LAYER_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class RequestRecord:
    """The request that caused an event, and who made it (``actor``: the authenticated user, or "")."""

    id: str
    addr: str
    host: str
    method: str
    useragent: str
    actor: str = ""
    base_url: str = ""  # scheme://host the client used: the events' ``url`` is built on it

    def as_json(self) -> dict[str, str]:
        record = {"id": self.id, "addr": self.addr, "host": self.host}
        record = {k: v for k, v in record.items() if v or k == "id"}
        return {**record, "method": self.method, "useragent": self.useragent}


@dataclass(frozen=True)
class SourceRecord:
    """The registry node that generated the event: ``host:port`` and an id that changes on each start."""

    addr: str
    instance_id: str

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in (("addr", self.addr), ("instanceID", self.instance_id)) if v}


@dataclass(frozen=True)
class Target:
    """What an event is about. ``kind`` (``manifest``, ``blob`` or ``""``) decides its ``url``."""

    action: str
    repository: str
    kind: str = ""
    digest: str = ""
    media_type: str = ""
    size: int = 0
    tag: str = ""
    from_repository: str = ""
    references: tuple[dict[str, Any], ...] = ()

    def as_json(self, base_url: str) -> dict[str, Any]:
        url = ""
        if self.kind and self.digest:
            url = f"{base_url}/v2/{self.repository}/{self.kind}s/{self.digest}"
        fields: list[tuple[str, Any]] = [
            ("mediaType", self.media_type),
            ("digest", self.digest),
            ("size", self.size),
            ("length", self.size),
            ("repository", self.repository),
            ("fromRepository", self.from_repository),
            ("url", url),
            ("tag", self.tag),
            ("references", list(self.references)),
        ]
        return {k: v for k, v in fields if v}


def timestamp(now: datetime | None = None) -> str:
    """RFC 3339 with nanosecond-style precision, as Go's ``time.Time`` marshals (UTC: ``Z``)."""
    moment = now or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event(target: Target, request: RequestRecord, source: SourceRecord) -> dict[str, Any]:
    """One event: a fresh id (receivers dedupe on it), now, the target, the request, actor and source."""
    actor = {"name": request.actor} if request.actor else {}
    return {
        "id": str(uuid.uuid4()),
        "timestamp": timestamp(),
        "action": target.action,
        "target": target.as_json(request.base_url),
        "request": request.as_json(),
        "actor": actor,
        "source": source.as_json(),
    }


def envelope(events: list[dict[str, Any]]) -> bytes:
    """The body a notification endpoint receives."""
    return json.dumps({"events": events}, separators=(",", ":")).encode()
