"""What this registry does with each of distribution's configuration keys: one table, three states.

Every key ``schema.py`` knows resolves, by its longest dotted prefix listed in ``KEYS``, to one state:

* ``supported`` — the key does what distribution's documentation says;
* ``refused`` — a configuration that sets it does not start: one line names the key and why (a user who
  sets ``middleware`` must not believe their storage middleware runs);
* ``warned`` — it starts, with one warning line naming the key: what it would do is not done, and
  nothing a client relies on changes.

A key counts as set when its value is not the zero value (``false``, ``""``, ``0``, an empty list or
mapping, recursively) or, for entries with an ``active`` test, when that test says so (a notification
endpoint with ``disabled: true`` is not set). ``review`` walks a decoded configuration and returns one
``Finding`` per refused or warned key that is set; the server logs the warnings and refuses to start on
any refusal (``registry serve``). The README's table is ``markdown_table()``; a test keeps it in sync.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from .schema import CONFIGURATION, ListOf, MapOf, Node, Struct

__all__ = ["KEYS", "Finding", "KeyState", "markdown_table", "resolve", "review", "schema_keys"]

State = Literal["supported", "refused", "warned"]


def is_set(value: Any) -> bool:
    """Whether a decoded value differs from its Go zero value (recursively for mappings and lists)."""
    if isinstance(value, Mapping):
        return any(is_set(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return bool(value)
    if isinstance(value, timedelta):
        return value != timedelta(0)
    return bool(value)


def _any_enabled(value: Any) -> bool:
    """A list (or mapping of lists) of entries with a ``disabled`` flag: set when one is not disabled."""
    lists = value.values() if isinstance(value, Mapping) else [value]
    return any(isinstance(e, Mapping) and not e.get("disabled") for entries in lists for e in entries or ())


@dataclass(frozen=True)
class KeyState:
    state: State
    why: str = ""
    active: Callable[[Any], bool] = field(default=is_set, compare=False)


def _ok(note: str = "") -> KeyState:
    return KeyState("supported", note)


def _refuse(why: str, active: Callable[[Any], bool] = is_set) -> KeyState:
    return KeyState("refused", why, active)


def _warn(why: str, active: Callable[[Any], bool] = is_set) -> KeyState:
    return KeyState("warned", why, active)


_LATER = "not implemented yet"
_FALSE = ("false", "0", "f")  # Go's strconv.ParseBool, as the S3 driver reads its booleans
# (unquoted YAML ``off``, as in ``loglevel: off``, reads as false)

# Dotted keys; a key's state is that of its longest listed prefix. Order is the README's.
KEYS: Mapping[str, KeyState] = {
    "version": _ok("must be 0.1"),
    "log": _ok(),
    "log.formatter": _ok("text, json or logstash"),
    "log.fields": _ok("added to every log line"),
    "log.accesslog": _ok("on by default: one combined-format line per request on stdout"),
    "log.hooks": _warn("log hooks (mail) are not sent", _any_enabled),
    "log.reportcaller": _ok("func and file fields on every line"),
    "loglevel": _ok("deprecated: log.level"),
    "storage": _ok("filesystem, s3, inmemory; delete, redirect, cache, maintenance"),
    "storage.maintenance.gc": _ok(
        "this project's key: online garbage collection (enabled, interval, graceperiod, deleteuntagged, dryrun)"
    ),
    "storage.tag": _warn("tag lookup concurrency is not configurable here"),
    "storage.s3.loglevel": _warn(
        "the S3 client's request log is not configurable here",
        lambda v: is_set(v) and str(v).strip().lower() != "off",
    ),
    "storage.s3.checksumalgorithm": _warn("requests carry boto3's default checksums"),
    "storage.s3.multipartcombinesmallpart": _warn(
        "a small last part is always combined with the one before", lambda v: str(v).strip().lower() in _FALSE
    ),
    "auth": _ok("silly, htpasswd, token"),
    "middleware": _refuse(
        "registry, repository and storage middleware (e.g. cloudfront, redirect) are not implemented",
        _any_enabled,
    ),
    "reporting": _ok(
        "bugsnag (apikey, releasestage, endpoint; the bugsnag extra) and Sentry via SENTRY_DSN: unhandled errors"
    ),
    "reporting.newrelic": _refuse(
        "New Relic reporting is not implemented: export traces with OpenTelemetry (OTEL_* variables)"
    ),
    "http": _ok(),
    "http.net": _ok("tcp (':5000' is IPv4 and IPv6), tcp4, tcp6, unix (http.addr is the socket path)"),
    "http.prefix": _ok("404 outside it; Locations and Links carry it"),
    "http.tls.ciphersuites": _ok("TLS 1.2 suites, under uvicorn (granian refuses the key)"),
    "http.tls.letsencrypt": _refuse(
        "Let's Encrypt certificates are not implemented; set http.tls.certificate"
    ),
    "http.debug": _ok("the debug listener: /debug/health, and Prometheus metrics when prometheus.enabled"),
    "http.limits": _ok("this project's keys, see HTTP limits"),
    "notifications": _ok(
        "webhook events kept in a durable outbox in storage until delivered, see Notifications"
    ),
    "notifications.endpoints.maxpending": _ok(
        "this project's key: envelopes kept per endpoint (default 10000); the oldest beyond it are dropped"
    ),
    "redis": _ok("the blob descriptor cache"),
    "redis.pool.maxidle": _warn("redis-py's pool has no idle-connection cap"),
    "redis.addrs": _refuse(
        "redis cluster (several addresses) is not implemented", lambda v: isinstance(v, list) and len(v) > 1
    ),
    "redis.mastername": _refuse("redis sentinel is not implemented"),
    "redis.sentinelusername": _refuse("redis sentinel is not implemented"),
    "redis.sentinelpassword": _refuse("redis sentinel is not implemented"),
    **{
        f"redis.{name}": _warn("a go-redis client option with no counterpart here")
        for name in (
            "clientname",
            "protocol",
            "maxretries",
            "minretrybackoff",
            "maxretrybackoff",
            "contexttimeoutenabled",
            "poolfifo",
            "pooltimeout",
            "minidleconns",
            "maxidleconns",
            "connmaxidletime",
            "connmaxlifetime",
            "maxredirects",
            "readonly",
            "routebylatency",
            "routerandomly",
        )
    },
    "health": _ok("storagedriver (a write probe), file, http, tcp: 503 UNAVAILABLE while one fails"),
    "catalog": _ok(),
    "tags": _ok("this project's key: maxtags, the longest tag-list page (default: no maximum)"),
    "ui": _ok("this project's key: the web UI and API docs under /ui, on unless enabled: false"),
    "proxy": _ok("a pull-through cache, see Pull-through cache"),
    "proxy.upstreams": _ok("this project's key: several upstreams chosen by repository prefix"),
    "compatibility": _ok(
        "schema1 manifests (migrations): stored ones served; pushes verified and accepted only when enabled"
    ),
    "validation": _ok("layer URLs of pushed manifests checked against manifests.urls.allow/deny"),
    "validation.manifests.indexes": _ok(
        "platforms all (default), none or list (platformlist): the children of a pushed index that must exist"
    ),
    "validation.manifests.layers": _ok("this project's key: required all (default) or none (sparse images)"),
    "policy": _warn("repository class policy is not implemented"),
}


@dataclass(frozen=True)
class Finding:
    """A set key that is refused or warned; ``line`` is what startup prints."""

    key: str
    state: State
    why: str

    @property
    def line(self) -> str:
        verb = "refused" if self.state == "refused" else "ignored"
        return f"{self.key}: {verb}: {self.why}"


def resolve(key: str) -> tuple[str, KeyState]:
    """The table entry governing the dotted ``key`` (its longest listed prefix); KeyError when none."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in KEYS:
            return prefix, KEYS[prefix]
    raise KeyError(key)


def review(tree: Mapping[str, Any]) -> tuple[Finding, ...]:
    """The refused and warned keys set in a decoded configuration tree, in the table's order."""
    found: dict[str, Finding] = {}
    _walk(tree, "", found)
    order = list(KEYS)
    return tuple(sorted(found.values(), key=lambda f: order.index(f.key)))


def _walk(tree: Mapping[str, Any], parent: str, found: dict[str, Finding]) -> None:
    for name, value in tree.items():
        key = f"{parent}.{name}" if parent else name
        try:
            entry, state = resolve(key)
        except KeyError:
            continue  # unknown keys were already warned about and dropped by decode
        if state.state != "supported" and entry == key:
            if state.active(value):
                found[entry] = Finding(entry, state.state, state.why)
            continue
        if state.state != "supported":
            continue  # governed by an ancestor already judged
        if isinstance(value, Mapping):
            _walk(value, key, found)


def schema_keys(node: Node = CONFIGURATION, parent: str = "") -> Iterator[str]:
    """Every dotted key of the schema's structs (maps and lists are leaves: their keys are the user's)."""
    if isinstance(node, Struct):
        for name, child in node.fields.items():
            key = f"{parent}.{name}" if parent else name
            yield key
            if isinstance(child, Struct):
                yield from schema_keys(child, key)
            elif isinstance(child, ListOf) and isinstance(child.item, Struct):
                yield from schema_keys(child.item, key)
            elif isinstance(child, MapOf):
                continue


def markdown_table() -> str:
    """The README's table: each entry of ``KEYS``, its state, why, and the schema keys it governs."""
    governed: dict[str, list[str]] = {key: [] for key in KEYS}
    keys = list(schema_keys())
    leaves = [key for key in keys if not any(other.startswith(key + ".") for other in keys)]
    for key in leaves:
        entry, _ = resolve(key)
        if key != entry:
            governed[entry].append(key[len(entry) + 1 :])
    rows = ["| key | state | why / note | keys it covers |", "|---|---|---|---|"]
    for key, state in KEYS.items():
        covers = ", ".join(governed[key])
        rows.append(f"| `{key}` | {state.state} | {state.why} | {covers} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m registry_impl.config.support: the README's table
    print(markdown_table())
