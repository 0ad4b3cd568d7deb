"""The token server's ACL: path globs, ${account}, anonymous, types, actions, reload; and scope parsing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from registry_toolkit.token_server.acl import ACL, AclError, parse_rules, path_glob
from registry_toolkit.token_server.tokens import ResourceActions, parse_scope

RULES = parse_rules(
    [
        {"account": "alice", "repository": "alice/*", "actions": ["pull", "push", "delete"]},
        {"account": "*", "repository": "library/*", "actions": ["pull"]},
        {"account": "*", "repository": "home/${account}/*", "actions": ["*"]},
        {"account": "carol", "repository": "team/**", "actions": ["pull"]},
        {"account": "", "repository": "public/*", "actions": ["pull"]},
        {"account": "admin", "type": "registry", "repository": "catalog", "actions": ["*"]},
    ]
)


@pytest.mark.parametrize(
    ("account", "kind", "name", "requested", "granted"),
    [
        ("alice", "repository", "alice/app", ["pull", "push"], ["pull", "push"]),
        ("alice", "repository", "alice/deep/app", ["delete"], []),  # "*" stops at "/"
        ("alice", "repository", "alice", ["pull"], []),
        ("carol", "repository", "team/app", ["pull"], ["pull"]),
        ("carol", "repository", "team/a/b/c", ["pull"], ["pull"]),  # "**" crosses it
        ("carol", "repository", "teamx/app", ["pull"], []),
        ("bob", "repository", "home/bob/x/y", ["pull"], []),
        ("bob", "repository", "alice/app", ["pull", "push"], []),
        ("bob", "repository", "library/ubuntu", ["pull", "push"], ["pull"]),
        ("bob", "repository", "home/bob/x", ["pull", "push", "delete", "*"], ["*", "delete", "pull", "push"]),
        ("bob", "repository", "home/alice/x", ["pull"], []),
        ("b*", "repository", "home/bob/x", ["pull"], []),  # ${account} is literal, not a glob
        ("", "repository", "public/x", ["pull", "push"], ["pull"]),
        ("", "repository", "library/ubuntu", ["pull"], []),  # "*" is not anonymous
        ("alice", "repository", "public/x", ["pull"], []),  # "" is only anonymous
        ("admin", "registry", "catalog", ["*"], ["*"]),
        ("alice", "registry", "catalog", ["*"], []),
        ("admin", "repository", "catalog", ["pull"], []),
    ],
)
def test_grants(account: str, kind: str, name: str, requested: list[str], granted: list[str]) -> None:
    assert ACL(rules=RULES).granted(account, kind, name, requested) == granted


@pytest.mark.parametrize(
    ("pattern", "matching", "other"),
    [
        ("alice/*", ["alice/app", "alice/"], ["alice/a/b", "alice", "bob/app", "xalice/app"]),
        ("*", ["app", ""], ["a/b"]),
        ("**", ["app", "a/b/c"], []),
        ("a/**/z", ["a/b/z", "a/b/c/z", "a//z"], ["a/z", "b/a/z"]),
        ("lib/a?c", ["lib/abc"], ["lib/a/c", "lib/ac"]),
        ("lib/[a-c]x", ["lib/bx"], ["lib/dx", "lib//x"]),
        ("lib/[!a]x", ["lib/bx"], ["lib/ax", "lib//x"]),
        ("lib/[.-0]x", ["lib/.x", "lib/0x"], ["lib//x"]),  # a range spanning "/" still stops at it
        ("a.b+c(d)", ["a.b+c(d)"], ["aXb+c(d)", "a.bbc(d)"]),  # regex characters are literal
        ("x/[*]", ["x/*"], ["x/y"]),  # how ${account} is made literal
        ("x/[", ["x/["], ["x/a"]),
    ],
)
def test_path_glob(pattern: str, matching: list[str], other: list[str]) -> None:
    assert [name for name in matching + other if path_glob(pattern).fullmatch(name)] == matching


def test_an_entry_without_a_repository_matches_any_name() -> None:
    acl = ACL(rules=parse_rules([{"account": "ops", "actions": ["pull"]}]))
    assert acl.granted("ops", "repository", "a/b/c", ["pull"]) == ["pull"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"account": "a"}, "must be a list"),
        (["x"], "expected a mapping"),
        ([{"account": "a", "repository": "r"}], "'actions' must be a list"),
        ([{"account": "a", "repository": "r", "actions": "pull"}], "'actions' must be a list"),
        ([{"repository": "r", "actions": []}], "'account' must be a string"),
        ([{"account": "a", "actions": [], "acount": "typo"}], "unknown keys"),
    ],
)
def test_invalid_files(document: object, message: str) -> None:
    with pytest.raises(AclError, match=message):
        parse_rules(document)


def test_the_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "acl.yml"
    path.write_text("- {account: alice, repository: 'a/*', actions: [pull]}\n")
    acl = ACL(path)
    assert acl.granted("alice", "repository", "a/x", ["pull", "push"]) == ["pull"]
    path.write_text("- {account: alice, repository: 'a/*', actions: [pull, push]}\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    assert acl.granted("alice", "repository", "a/x", ["pull", "push"]) == ["pull", "push"]


@pytest.mark.parametrize(
    ("scope", "parsed"),
    [
        ("repository:org/app:pull,push", ResourceActions("repository", "org/app", ("pull", "push"))),
        (
            "repository:localhost:5000/app:pull",
            ResourceActions("repository", "localhost:5000/app", ("pull",)),
        ),
        ("registry:catalog:*", ResourceActions("registry", "catalog", ("*",))),
        ("repository(plugin):org/p:pull", ResourceActions("repository", "org/p", ("pull",), "plugin")),
        ("repository:org/app:", ResourceActions("repository", "org/app", ())),
    ],
)
def test_parse_scope(scope: str, parsed: ResourceActions) -> None:
    assert parse_scope(scope) == parsed


@pytest.mark.parametrize("scope", ["repository", "repository:app", ":app:pull", "repository::pull"])
def test_parse_scope_rejects(scope: str) -> None:
    with pytest.raises(ValueError, match="invalid scope"):
        parse_scope(scope)
