"""Challenge quoting, the scope parameter, Basic credentials, and choosing a controller by name."""

from __future__ import annotations

import base64

import pytest

from registry_impl.auth import create
from registry_impl.auth.base import Access, Resource, basic_credentials, go_quote, scope_param
from registry_impl.auth.silly import SillyAccessController
from registry_impl.config import ConfigError

pytestmark = pytest.mark.anyio


def repo(name: str, action: str) -> Access:
    return Access(Resource("repository", name), action)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", '"plain"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("line\r\nInjected: yes", '"line\\r\\nInjected: yes"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("é", '"\\u00e9"'),
    ],
)
def test_go_quote_never_ends_the_string_or_the_line(value: str, quoted: str) -> None:
    assert go_quote(value) == quoted


def test_scope_param_groups_actions_per_resource_sorted() -> None:
    access = [
        repo("a", "push"),
        repo("a", "pull"),
        repo("b", "pull"),
        Access(Resource("registry", "catalog"), "*"),
    ]
    assert scope_param(access) == "repository:a:pull,push repository:b:pull registry:catalog:*"
    assert scope_param([]) == ""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"Basic {b64('alice:s3cr:et')}", ("alice", "s3cr:et")),
        (f"basic {b64('alice:')}", ("alice", "")),
        (f"BASIC {b64(':pw')}", ("", "pw")),
        (f"Basic {b64('no-colon')}", None),
        ("Basic !!!notbase64", None),
        (f"Bearer {b64('alice:pw')}", None),
        ("", None),
    ],
)
def test_basic_credentials(header: str, expected: tuple[str, str] | None) -> None:
    found = basic_credentials({"authorization": header} if header else {})
    assert (None if found is None else (found.username, found.password)) == expected


async def test_silly_passes_any_authorization_header() -> None:
    controller = SillyAccessController("https://auth.example/token", "registry.example")
    grant = await controller.authorized({"authorization": "anything"}, [repo("a", "pull")])
    assert grant.user == "silly"


async def test_silly_challenges_with_one_scope_per_record() -> None:
    controller = SillyAccessController("https://auth.example/token", "registry.example")
    with pytest.raises(Exception) as caught:
        await controller.authorized({}, [repo("a", "pull"), repo("a", "push")])
    assert caught.value.headers == {  # type: ignore[attr-defined]
        "WWW-Authenticate": 'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:a:pull repository:a:push"'
    }
    with pytest.raises(Exception) as bare:
        await controller.authorized({}, [])
    assert bare.value.headers["WWW-Authenticate"] == (  # type: ignore[attr-defined]
        'Bearer realm="https://auth.example/token",service="registry.example"'
    )


def test_create_by_scheme() -> None:
    assert create(None, {}) is None
    assert isinstance(create("silly", {"realm": "r", "service": "s"}), SillyAccessController)
    with pytest.raises(ConfigError, match=r"auth\.ldap: no access controller registered"):
        create("ldap", {})
    with pytest.raises(ConfigError, match=r"auth\.silly\.service"):
        create("silly", {"realm": "r"})
