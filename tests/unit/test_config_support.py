"""Every key of distribution's configuration has a state (supported, refused, warned), the README lists them,
and a configuration that sets an unsupported key yields one finding naming it."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from registry_impl.config import parse_config
from registry_impl.config.schema import CONFIGURATION
from registry_impl.config.support import KEYS, markdown_table, resolve, review, schema_keys

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"
MINIMAL = "version: 0.1\nstorage: {filesystem: {rootdirectory: /tmp/r}}\n"


def test_every_schema_key_has_a_state() -> None:
    for key in schema_keys():
        entry, state = resolve(key)
        assert state.state in ("supported", "refused", "warned"), key
        assert key == entry or key.startswith(entry + "."), key


def test_every_top_level_section_is_listed_itself() -> None:
    assert set(CONFIGURATION.fields) <= set(KEYS)


def test_every_listed_key_is_a_key_of_the_schema() -> None:
    known = set(schema_keys())
    for key in KEYS:
        assert key in known or key.startswith("storage."), f"{key} is in the table but not in the schema"


def test_refused_and_warned_keys_say_why() -> None:
    for key, state in KEYS.items():
        if state.state != "supported":
            assert state.why, key


def test_the_readme_lists_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- config-keys:begin -->\n(.*?)\n<!-- config-keys:end -->", text, re.S)
    assert found, "README.md has no config-keys table"
    assert found.group(1) == markdown_table(), "README table is stale: python -m registry_impl.config.support"


def test_the_embedded_default_and_a_minimal_file_have_no_findings() -> None:
    from registry_impl.config import load_config

    assert load_config(None, {}).findings == ()
    assert parse_config(MINIMAL, {}).findings == ()


EVERY_SECTION = (
    MINIMAL
    + """\
log:
  level: info
  hooks: [{type: mail, levels: [panic], options: {to: [a@example.com]}}]
  reportcaller: true
reporting: {bugsnag: {apikey: k}}
middleware:
  storage: [{name: cloudfront, options: {baseurl: https://cdn.example/}}]
http:
  addr: 127.0.0.1:5000
  tls: {letsencrypt: {cachefile: /tmp/le, email: a@example.com}}
  debug: {addr: localhost:5001, prometheus: {enabled: true}}
notifications:
  endpoints: [{name: l, url: https://l.example/event}]
redis: {addr: localhost:6379, pool: {maxidle: 16}}
health:
  storagedriver: {enabled: true, interval: 10s, threshold: 3}
proxy: {remoteurl: https://registry-1.docker.io}
compatibility: {schema1: {enabled: true}}
validation: {manifests: {urls: {allow: ["^https?://([^/]+\\\\.)*example\\\\.com/"]}}}
policy: {repository: {classes: [image]}}
"""
)


def test_every_unsupported_section_gives_one_finding_naming_its_key() -> None:
    findings = parse_config(EVERY_SECTION, {}).findings
    lines = [f.line for f in findings]
    keys = [f.key for f in findings]
    assert len(keys) == len(set(keys)), lines
    for key in ("middleware", "http.tls.letsencrypt"):
        assert any(f.key == key and f.state == "refused" for f in findings), lines
    for key in (
        "log.hooks",
        "policy",
    ):
        assert any(f.key == key and f.state == "warned" for f in findings), lines
    assert all(line.startswith(f"{f.key}: ") for f, line in zip(findings, lines, strict=True))


@pytest.mark.parametrize(
    "text",
    [
        "notifications: {endpoints: [{name: l, url: 'https://l.example', disabled: true}]}\n",
        "middleware: {storage: [{name: cloudfront, disabled: true}]}\n",
        "log: {hooks: [{type: mail, disabled: true}]}\n",
        "proxy: {remoteurl: ''}\n",
        "http: {debug: {addr: ''}}\n",
        "compatibility: {schema1: {enabled: false}}\n",
    ],
)
def test_a_key_left_at_its_zero_value_or_disabled_is_not_a_finding(text: str) -> None:
    assert review(_tree(MINIMAL + text)) == ()


def _tree(text: str) -> dict[str, object]:
    from registry_impl.config.decode import decode
    from registry_impl.config.tree import parse_yaml

    raw = parse_yaml(text, what="test")
    assert isinstance(raw, dict)
    tree = decode(CONFIGURATION, raw)
    assert isinstance(tree, dict)
    return tree


def test_environment_overrides_are_judged_too() -> None:
    config = parse_config(MINIMAL, {"REGISTRY_HTTP_TLS_LETSENCRYPT_CACHEFILE": "/tmp/le"})
    assert [f.key for f in config.refused] == ["http.tls.letsencrypt"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("redis: {addrs: ['a:6379', 'b:6379']}\n", "redis.addrs"),
        ("redis: {addrs: ['a:6379'], mastername: m}\n", "redis.mastername"),
    ],
)
def test_redis_cluster_and_sentinel_are_refused(text: str, key: str) -> None:
    assert [f.key for f in parse_config(MINIMAL + text, {}).refused] == [key]


def test_distribution_3_redis_keys() -> None:
    text = (
        "redis: {addrs: ['r:6379'], username: u, poolsize: 8, maxidleconns: 4, "
        "tls: {certificate: /c.pem, key: /k.pem, clientcas: [/ca.pem]}}\n"
    )
    config = parse_config(MINIMAL + text, {})
    assert config.redis.addr == "r:6379" and config.redis.username == "u" and config.redis.pool.maxactive == 8
    assert config.redis.tls.enabled and config.redis.tls.clientcas == ("/ca.pem",)
    assert [(f.key, f.state) for f in config.findings] == [("redis.maxidleconns", "warned")]


S3 = "version: 0.1\nstorage:\n  s3: {bucket: b, region: us-east-1, usefipsendpoint: true, %s}\n"


@pytest.mark.parametrize(
    ("setting", "warned"),
    [
        ("loglevel: debug", "storage.s3.loglevel"),
        ("loglevel: 'off'", None),
        ("loglevel: off", None),
        ("checksumalgorithm: crc32c", "storage.s3.checksumalgorithm"),
        ("multipartcombinesmallpart: false", "storage.s3.multipartcombinesmallpart"),
        ("multipartcombinesmallpart: 'true'", None),
    ],
)
def test_s3_keys_the_driver_does_not_read_warn_when_they_ask_for_something(
    setting: str, warned: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """Not read by the driver: set to anything but what it does anyway, a warning names them. Keys it reads
    (``usefipsendpoint``) are neither findings nor "unknown"."""
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        config = parse_config(S3 % setting, {})
    assert [f.key for f in config.warned] == ([warned] if warned else [])
    assert config.storage.driver_params["usefipsendpoint"] is True
    assert "unknown configuration key" not in caplog.text
