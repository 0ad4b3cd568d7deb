"""The shape of distribution's ``Configuration`` struct: which keys exist and what Go type each holds.

Environment overrides walk this shape as distribution's parser walks its Go structs (struct fields are
matched by their upper-cased Go field name, map keys by their upper-cased key), and decoding uses it to
type scalars and to warn about unknown keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "ANY",
    "BOOL",
    "CONFIGURATION",
    "DURATION",
    "INT",
    "STR",
    "Leaf",
    "ListOf",
    "MapOf",
    "Node",
    "Struct",
]


@dataclass(frozen=True)
class Leaf:
    """A scalar of a Go type; ``any`` is ``interface{}``, whatever the YAML holds."""

    kind: Literal["str", "bool", "int", "duration", "any"]


@dataclass(frozen=True)
class ListOf:
    item: Node


@dataclass(frozen=True)
class MapOf:
    """A ``map[string]T``; with ``shorthand`` a bare string ``name`` stands for ``{name: {}}``."""

    value: Node
    shorthand: bool = False


@dataclass(frozen=True)
class Struct:
    """A Go struct: YAML key → node; ``go_names`` maps an upper-cased Go field name to its YAML key
    where the two differ (environment variables use the Go name)."""

    fields: Mapping[str, Node]
    go_names: Mapping[str, str] = field(default_factory=dict)

    def key_for_env(self, segment: str) -> str | None:
        """The YAML key an environment variable segment selects, or None."""
        if segment in self.go_names:
            return self.go_names[segment]
        renamed = set(self.go_names.values())
        for key in self.fields:
            if key.upper() == segment and key not in renamed:
                return key
        return None


Node: TypeAlias = Leaf | ListOf | MapOf | Struct

STR = Leaf("str")
BOOL = Leaf("bool")
INT = Leaf("int")
DURATION = Leaf("duration")
ANY = Leaf("any")

_STRINGS = ListOf(STR)
_HEADERS = MapOf(_STRINGS)  # Go's http.Header
_PARAMETERS = MapOf(ANY)  # configuration.Parameters

_LOG = Struct(
    {
        "accesslog": Struct({"disabled": BOOL}),
        "level": STR,
        "formatter": STR,
        "fields": _PARAMETERS,
        "hooks": ListOf(
            Struct(
                {"disabled": BOOL, "type": STR, "levels": _STRINGS, "options": ANY},
                go_names={"MAILOPTIONS": "options"},
            )
        ),
        "reportcaller": BOOL,
    }
)

_TLS = Struct(
    {
        "certificate": STR,
        "key": STR,
        "clientcas": _STRINGS,
        "clientauth": STR,
        "minimumtls": STR,
        "ciphersuites": _STRINGS,
        "letsencrypt": Struct({"cachefile": STR, "email": STR, "hosts": _STRINGS, "directoryurl": STR}),
    }
)

_HTTP = Struct(
    {
        "addr": STR,
        "net": STR,
        "host": STR,
        "prefix": STR,
        "secret": STR,
        "relativeurls": BOOL,
        "draintimeout": DURATION,
        "tls": _TLS,
        "headers": _HEADERS,
        "debug": Struct({"addr": STR, "prometheus": Struct({"enabled": BOOL, "path": STR})}),
        "http2": Struct({"disabled": BOOL}),
        "h2c": Struct({"enabled": BOOL}),
        "limits": Struct(  # this project's own subsection
            {
                "maxheaderbytes": INT,
                "maxheaders": INT,
                "maxrequestline": INT,
                "maxconnections": INT,
                "headertimeout": DURATION,
                "idletimeout": DURATION,
                "bodytimeout": DURATION,
            }
        ),
    }
)

_ENDPOINT = Struct(
    {
        "name": STR,
        "disabled": BOOL,
        "url": STR,
        "headers": _HEADERS,
        "timeout": DURATION,
        "threshold": INT,
        "backoff": DURATION,
        "ignoredmediatypes": _STRINGS,
        "ignore": Struct({"mediatypes": _STRINGS, "actions": _STRINGS}),
        "maxpending": INT,  # this project's key: the outbox cap per endpoint
    }
)

_REDIS = Struct(
    {
        "addr": STR,
        "password": STR,
        "db": INT,
        "tls": Struct({"enabled": BOOL, "certificate": STR, "key": STR, "clientcas": _STRINGS}),
        "dialtimeout": DURATION,
        "readtimeout": DURATION,
        "writetimeout": DURATION,
        "pool": Struct({"maxidle": INT, "maxactive": INT, "idletimeout": DURATION}),
        # distribution 3: go-redis's UniversalOptions, inlined
        "addrs": _STRINGS,
        "clientname": STR,
        "protocol": INT,
        "username": STR,
        "sentinelusername": STR,
        "sentinelpassword": STR,
        "maxretries": INT,
        "minretrybackoff": DURATION,
        "maxretrybackoff": DURATION,
        "contexttimeoutenabled": BOOL,
        "poolfifo": BOOL,
        "poolsize": INT,
        "pooltimeout": DURATION,
        "minidleconns": INT,
        "maxidleconns": INT,
        "maxactiveconns": INT,
        "connmaxidletime": DURATION,
        "connmaxlifetime": DURATION,
        "maxredirects": INT,
        "readonly": BOOL,
        "routebylatency": BOOL,
        "routerandomly": BOOL,
        "mastername": STR,
    }
)

_CHECK = {"timeout": DURATION, "interval": DURATION, "threshold": INT}
_HEALTH = Struct(
    {
        "file": ListOf(Struct({"file": STR, "interval": DURATION, "threshold": INT})),
        "http": ListOf(Struct({**_CHECK, "uri": STR, "headers": _HEADERS, "statuscode": INT})),
        "tcp": ListOf(Struct({**_CHECK, "addr": STR})),
        "storagedriver": Struct({"enabled": BOOL, "interval": DURATION, "threshold": INT}),
    },
    go_names={"FILECHECKERS": "file", "HTTPCHECKERS": "http", "TCPCHECKERS": "tcp"},
)

CONFIGURATION = Struct(
    {
        "version": STR,
        "log": _LOG,
        "loglevel": STR,
        "storage": MapOf(_PARAMETERS, shorthand=True),
        "auth": MapOf(_PARAMETERS, shorthand=True),
        "middleware": MapOf(ListOf(Struct({"name": STR, "disabled": BOOL, "options": _PARAMETERS}))),
        "reporting": Struct(
            {
                "bugsnag": Struct({"apikey": STR, "releasestage": STR, "endpoint": STR}),
                "newrelic": Struct({"licensekey": STR, "name": STR, "verbose": BOOL}),
            }
        ),
        "http": _HTTP,
        "notifications": Struct(
            {"events": Struct({"includereferences": BOOL}), "endpoints": ListOf(_ENDPOINT)},
            go_names={"EVENTCONFIG": "events"},
        ),
        "redis": _REDIS,
        "health": _HEALTH,
        "catalog": Struct({"maxentries": INT}),
        "tags": Struct({"maxtags": INT}),  # this project's own section
        "ui": Struct({"enabled": BOOL}),  # this project's own section: the web UI
        "proxy": Struct(
            {
                "remoteurl": STR,
                "username": STR,
                "password": STR,
                "ttl": DURATION,
                # this project's extension: several upstreams, chosen by repository prefix
                "upstreams": ListOf(
                    Struct({"prefix": STR, "remoteurl": STR, "username": STR, "password": STR, "ttl": DURATION})
                ),
            }
        ),
        "compatibility": Struct(
            {
                "schema1": Struct(
                    {"signingkeyfile": STR, "enabled": BOOL}, go_names={"TRUSTKEY": "signingkeyfile"}
                )
            }
        ),
        "validation": Struct(
            {
                "enabled": BOOL,
                "disabled": BOOL,
                "manifests": Struct(
                    {
                        "urls": Struct({"allow": _STRINGS, "deny": _STRINGS}),
                        "indexes": _PARAMETERS,
                        "layers": Struct({"required": STR}),  # this project's key (sparse images)
                    }
                ),
            }
        ),
        "policy": Struct({"repository": Struct({"classes": _STRINGS})}),
    }
)
