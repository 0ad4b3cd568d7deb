"""``WWW-Authenticate`` challenges (RFC 9110 §11.6.1): ``Basic realm="…"``, ``Bearer realm="…",service="…",scope="…"``.

Parsed here for the client and the validator. Each header value is read as one challenge (what registries send:
one header per scheme). The server writes its challenges with Go's quoting (``go_quote``), byte for byte as
distribution does, so it does not use a formatter from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Challenge", "parse_challenge", "parse_challenges"]

_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass(frozen=True)
class Challenge:
    """One parsed challenge: the scheme (lowercase) and its parameters (names lowercase)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.params.get("scope", "").split())


def parse_challenge(value: str | None) -> Challenge | None:
    """The challenge of one ``WWW-Authenticate`` value, or None when it is empty.

    Parameters are read until the first malformed one; quoted values lose their quotes and backslash escapes.
    """
    if not value or not value.strip():
        return None
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAM_RE.match(rest, position)
        if match is None or match.end() == position:
            break
        quoted, bare = match[2], match[3]
        params[match[1].lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare or ""
        position = match.end()
    return Challenge(scheme.lower(), params)


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Every challenge of the ``WWW-Authenticate`` values of a response, in order."""
    return [challenge for value in values if (challenge := parse_challenge(value)) is not None]

