"""The token server's access control list: which account may do which actions on which resources.

The file is YAML, a list of entries::

    - account: alice              # an htpasswd user (glob); "" is the anonymous client, and only "" matches it
      repository: "alice/*"       # the resource name (path glob); ${account} is replaced by the account's name
      actions: [pull, push, delete]
    - account: "*"
      repository: "library/*"
      actions: [pull]
    - account: admin
      type: registry              # the resource type: repository (default) or registry
      repository: catalog
      actions: ["*"]

The resource name is a path glob, as distribution's repository names are paths: ``*`` matches
within one component and never crosses ``/`` (``alice/*`` grants ``alice/app``, not
``alice/team/app``); ``**`` crosses it (``alice/**`` grants both, ``**`` any repository); ``?`` is
one character other than ``/``; ``[...]`` a character class (``[!...]`` negated). An entry without
``repository`` matches every name. The account is an ``fnmatch`` glob.

A request gets, per resource, the requested actions some matching entry lists (``*`` lists them
all); what nothing grants is silently left out of the token, as the Docker token protocol wants.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["ACL", "AclError", "Rule", "load_rules", "parse_rules"]

ANONYMOUS = ""


class AclError(ValueError):
    """The ACL file cannot be used; the message names the entry."""


@dataclass(frozen=True)
class Rule:
    account: str
    name: str
    actions: frozenset[str]
    type: str = "repository"

    def matches(self, account: str, kind: str, name: str) -> bool:
        if kind != self.type:
            return False
        if account == ANONYMOUS or self.account == ANONYMOUS:
            if account != self.account:
                return False
        elif not fnmatch.fnmatchcase(account, self.account):
            return False
        pattern = self.name.replace("${account}", _glob_literal(account))
        return path_glob(pattern).fullmatch(name) is not None

    def allows(self, action: str) -> bool:
        return "*" in self.actions or action in self.actions


def _glob_literal(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def _char_class(body: str) -> str:
    negated = body[:1] in ("!", "^")
    chars = "".join("\\" + c if c in "\\[]^" else c for c in body[negated:])
    return f"[^/{chars}]" if negated else f"(?!/)[{chars}]"  # a range never reaches across "/" either


@functools.lru_cache(maxsize=1024)
def path_glob(pattern: str) -> re.Pattern[str]:
    """``pattern`` as a regular expression: ``**`` any text, ``*`` and ``?`` within one path component."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            out.append(_char_class(pattern[i + 1 : end]))
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def _string(entry: dict[str, object], key: str, index: int, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise AclError(f"acl entry {index}: {key!r} must be a string, got {value!r}")
    return value


def parse_rules(document: object) -> list[Rule]:
    """Rules from the decoded YAML document (a list of mappings)."""
    if document is None:
        return []
    if not isinstance(document, list):
        raise AclError("the acl must be a list of {account, repository, actions} entries")
    rules = []
    for index, entry in enumerate(document):
        if not isinstance(entry, dict):
            raise AclError(f"acl entry {index}: expected a mapping, got {entry!r}")
        actions = entry.get("actions")
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise AclError(f"acl entry {index}: 'actions' must be a list of strings")
        unknown = set(entry) - {"account", "repository", "name", "type", "actions"}
        if unknown:
            raise AclError(f"acl entry {index}: unknown keys {sorted(unknown)}")
        name = _string(entry, "repository", index, entry.get("name", "**"))  # type: ignore[arg-type]
        rules.append(
            Rule(
                account=_string(entry, "account", index),
                name=name,
                actions=frozenset(actions),
                type=_string(entry, "type", index, "repository"),
            )
        )
    return rules


def load_rules(path: Path) -> list[Rule]:
    try:
        return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise AclError(f"{path}: not YAML: {exc}") from exc


class ACL:
    """The rules of one file, re-read when it changes (a broken edit keeps the previous rules and raises)."""

    def __init__(self, path: Path | None = None, rules: Sequence[Rule] = ()) -> None:
        self.path = path
        self._rules = list(rules)
        self._stamp: tuple[int, int, int] | None = None
        if path is not None:
            self.rules()

    def rules(self) -> list[Rule]:
        if self.path is not None:
            info = os.stat(self.path)
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
            if stamp != self._stamp:
                self._rules, self._stamp = load_rules(self.path), stamp
        return self._rules

    def granted(self, account: str, kind: str, name: str, requested: Iterable[str]) -> list[str]:
        """The requested actions some rule for ``account`` grants on ``kind:name`` (sorted, no repeats)."""
        matching = [rule for rule in self.rules() if rule.matches(account, kind, name)]
        return sorted({action for action in requested if any(rule.allows(action) for rule in matching)})
