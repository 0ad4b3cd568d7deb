"""Tests of configuration problems: unknown keys warn, invalid values raise ConfigError naming the key."""

from __future__ import annotations

import logging
import textwrap

import pytest

from registry_impl.config import Config, ConfigError, parse_config

pytestmark = pytest.mark.unit

MINIMAL = """\
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
"""


def parse(text: str, **env: str) -> Config:
    return parse_config(textwrap.dedent(text), env)


def with_section(text: str) -> str:
    """MINIMAL plus ``text`` (more top-level YAML)."""
    return MINIMAL + textwrap.dedent(text)


# --- unknown keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "dotted"),
    [
        ("bogus: 1\n", "bogus"),
        ("http:\n  addr: ':5000'\n  bogus: 1\n", "http.bogus"),
        ("http:\n  tls:\n    certficate: /x\n", "http.tls.certficate"),
        ("redis:\n  pool:\n    size: 3\n", "redis.pool.size"),
        ("catalog:\n  maxEntries: 3\n", "catalog.maxEntries"),
    ],
)
def test_unknown_keys_warn_with_dotted_key(
    section: str, dotted: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        parse(with_section(section))
    assert f"unknown configuration key {dotted} " in caplog.text


@pytest.mark.parametrize(
    ("storage", "dotted"),
    [
        ("filesystem: {rootdirectory: /x, bogus: 1}", "storage.filesystem.bogus"),
        ("inmemory: {bogus: 1}", "storage.inmemory.bogus"),
        ("s3: {bucket: b, bogus: 1}", "storage.s3.bogus"),
        ("inmemory: \n  delete: {enabled: true, bogus: 1}", "storage.delete.bogus"),
        ("inmemory: \n  maintenance: {uploadpurging: {bogus: 1}}", "storage.maintenance.uploadpurging.bogus"),
    ],
)
def test_unknown_storage_keys_warn(storage: str, dotted: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        parse(f"version: 0.1\nstorage:\n  {storage}\n")
    assert f"unknown configuration key {dotted} " in caplog.text


@pytest.mark.parametrize(
    ("auth", "dotted"),
    [
        ("silly: {realm: r, service: s, servce: t}", "auth.silly.servce"),
        ("htpasswd: {realm: r, path: /p, pth: /q}", "auth.htpasswd.pth"),
        (
            "token: {realm: r, service: s, issuer: i, rootcertbundle: /c, jwks: /j, autoredirect: true,"
            " autoredirectpath: /a, signingalgorithms: [RS256], rootcertbundel: /d}",
            "auth.token.rootcertbundel",
        ),
    ],
)
def test_unknown_auth_keys_warn_and_known_ones_do_not(
    auth: str, dotted: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A misspelt key of a built-in access controller is named (``rootcertbundel`` would otherwise be
    dropped unseen); every key the controller reads passes without a word."""
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        parse(f"version: 0.1\nstorage: {{inmemory: }}\nauth:\n  {auth}\n")
    assert [r.getMessage() for r in caplog.records] == [f"unknown configuration key {dotted} (ignored)"]


@pytest.mark.parametrize(
    ("written", "env", "expected"),
    [
        ("commit", {}, "commit"),
        ("false", {}, False),
        ("true", {"REGISTRY_STORAGE_FILESYSTEM_FSYNC": "commit"}, "commit"),
    ],
)
def test_filesystem_fsync_is_a_known_key_handed_to_the_driver(
    written: str, env: dict[str, str], expected: bool | str, caplog: pytest.LogCaptureFixture
) -> None:
    """Documented (README: ``fsync: commit``), so no "unknown key (ignored)" warning, and the driver gets it."""
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        config = parse(
            f"version: 0.1\nstorage: {{filesystem: {{rootdirectory: /x, fsync: {written}}}}}\n", **env
        )
    assert "fsync" not in caplog.text
    assert config.storage.filesystem is not None and config.storage.filesystem.fsync == expected
    assert config.storage.driver_params["fsync"] == expected


def test_unknown_cache_type_warns_and_disables(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        config = parse("version: 0.1\nstorage: {inmemory: , cache: {blobdescriptor: memcached}}\n")
    assert config.storage.cache.blobdescriptor == ""
    assert "memcached" in caplog.text


# --- invalid values -----------------------------------------------------------------------------

INVALID: list[tuple[str, str]] = [
    ("version: 0.1\n", "storage"),
    ("version: 0.1\nstorage: {filesystem: {}, s3: {}}\n", "storage"),
    ("version: 0.1\nstorage: {filesystem: {rootdirectory: ''}}\n", "storage.filesystem.rootdirectory"),
    ("version: 0.1\nstorage: {filesystem: {maxthreads: lots}}\n", "storage.filesystem.maxthreads"),
    ("version: 0.1\nstorage: {filesystem: {fsync: sometimes}}\n", "storage.filesystem.fsync"),
    ("version: 0.1\nstorage: {inmemory: , delete: true}\n", "storage.delete"),
    ("version: 0.1\nstorage: {inmemory: , delete: {enabled: 'yes'}}\n", "storage.delete.enabled"),
    ("version: 0.1\nstorage: {inmemory: , redirect: {disable: 1}}\n", "storage.redirect.disable"),
    ("version: 0.1\nstorage: {inmemory: , cache: {blobdescriptor: redis}}\n", "storage.cache.blobdescriptor"),
    (
        "version: 0.1\nstorage: {inmemory: , cache: {blobdescriptorsize: -1}}\n",
        "storage.cache.blobdescriptorsize",
    ),
    (
        "version: 0.1\nstorage: {inmemory: , maintenance: {uploadpurging: {age: 1week}}}\n",
        "storage.maintenance.uploadpurging.age",
    ),
    (
        "version: 0.1\nstorage: {inmemory: , maintenance: {uploadpurging: {interval: 24}}}\n",
        "storage.maintenance.uploadpurging.interval",
    ),
    (
        "version: 0.1\nstorage: {inmemory: , maintenance: {readonly: {enabled: sometimes}}}\n",
        "storage.maintenance.readonly.enabled",
    ),
    ("storage: inmemory\n", "version"),
    ("version: 0.2\nstorage: inmemory\n", "version"),
    ("version: '1.0'\nstorage: inmemory\n", "version"),
]
INVALID_SECTIONS: list[tuple[str, str]] = [
    ("log: {level: verbose}", "log.level"),
    ("loglevel: verbose", "loglevel"),
    ("log: {formatter: xml}", "log.formatter"),
    ("log: {fields: [a, b]}", "log.fields"),
    ("log: {accesslog: {disabled: nope}}", "log.accesslog.disabled"),
    ("http: {addr: abc}", "http.addr"),
    ("http: {addr: 'localhost:99999'}", "http.addr"),
    ("http: {addr: '::1:5000'}", "http.addr"),
    ("http: {net: udp}", "http.net"),
    ("http: {net: unix}", "http.addr"),
    ("http: {host: myregistry.example.com}", "http.host"),
    ("http: {prefix: registry/}", "http.prefix"),
    ("http: {relativeurls: maybe}", "http.relativeurls"),
    ("http: {draintimeout: 10 s}", "http.draintimeout"),
    ("http: {draintimeout: -1s}", "http.draintimeout"),
    ("http: {headers: {X-A: single}}", "http.headers.X-A"),
    ("http: {tls: {certificate: /c}}", "http.tls.key"),
    ("http: {tls: {key: /k}}", "http.tls.certificate"),
    ("http: {tls: {minimumtls: ssl3}}", "http.tls.minimumtls"),
    ("http: {tls: {clientcas: /ca.pem}}", "http.tls.clientcas"),
    ("http: {debug: {addr: nowhere}}", "http.debug.addr"),
    ("http: 5000", "http"),
    ("auth: {silly: {realm: r}, htpasswd: {realm: r, path: p}}", "auth"),
    ("auth: {htpasswd: {realm: r}}", "auth.htpasswd.path"),
    ("auth: {silly: {service: s}}", "auth.silly.realm"),
    ("auth: {token: {realm: r, service: s, issuer: i}}", "auth.token.rootcertbundle"),
    (
        "auth: {token: {realm: r, service: s, issuer: i, jwks: /j, autoredirect: sure}}",
        "auth.token.autoredirect",
    ),
    ("redis: {db: -1}", "redis.db"),
    ("redis: {pool: {maxactive: x}}", "redis.pool.maxactive"),
    ("redis: {dialtimeout: forever}", "redis.dialtimeout"),
    ("notifications: {endpoints: [{name: a}]}", "notifications.endpoints[0].url"),
    (
        "notifications: {endpoints: [{name: a, url: 'http://a', timeout: x}]}",
        "notifications.endpoints[0].timeout",
    ),
    ("proxy: {remoteurl: registry-1.docker.io}", "proxy.remoteurl"),
    ("proxy: {ttl: -1h}", "proxy.ttl"),
    ("catalog: {maxentries: -1}", "catalog.maxentries"),
    ("catalog: {maxentries: 1.5}", "catalog.maxentries"),
    ("tags: {maxtags: -5}", "tags.maxtags"),
]


@pytest.mark.parametrize(("text", "key"), INVALID)
def test_invalid_values_name_their_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value).startswith(f"{key}: ")


@pytest.mark.parametrize(("section", "key"), INVALID_SECTIONS)
def test_invalid_section_values_name_their_key(section: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(with_section(section + "\n"))
    assert str(info.value).startswith(f"{key}: ")
    assert isinstance(info.value, ValueError)


def test_http_addr_message() -> None:
    with pytest.raises(ConfigError, match=r"^http\.addr: invalid address 'abc'$"):
        parse(with_section("http: {addr: abc}\n"))
