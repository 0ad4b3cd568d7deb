"""Tests of registry_impl.config: defaults, a full distribution-style file, overrides, warnings, errors."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import registry_impl.config as config_pkg
from registry_impl.config import (
    RANDOM_SECRET_WARNING,
    Config,
    ConfigError,
    load_config,
    parse_config,
    split_host_port,
)

pytestmark = pytest.mark.unit

MINIMAL = """\
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
"""

# Modelled on distribution's cmd/registry/config-example.yml and config-dev.yml, with every section
# this registry reads.
FULL = """\
version: 0.1
log:
  accesslog:
    disabled: true
  level: debug
  formatter: json
  fields:
    service: registry
    environment: development
  hooks:
    - type: mail
      disabled: true
      levels: [panic]
      options:
        smtp: {addr: "mail.example.com:25", username: mailuser, password: password, insecure: true}
        from: sender@example.com
        to: [errors@example.com]
storage:
  s3:
    accesskey: awsaccesskey
    secretkey: awssecretkey
    region: us-west-1
    regionendpoint: http://myobjects.local
    forcepathstyle: true
    bucket: bucketname
    encrypt: true
    keyid: mykeyid
    secure: true
    skipverify: false
    v4auth: true
    chunksize: 5242880
    multipartcopychunksize: 33554432
    multipartcopymaxconcurrency: 100
    multipartcopythresholdsize: 33554432
    rootdirectory: /s3/object/name/prefix
    storageclass: STANDARD
    objectacl: private
  delete:
    enabled: true
  redirect:
    disable: true
  cache:
    blobdescriptor: redis
    blobdescriptorsize: 5000
  maintenance:
    uploadpurging:
      enabled: true
      age: 72h
      interval: 1h30m
      dryrun: true
    readonly:
      enabled: true
auth:
  token:
    realm: https://auth.example.com/token
    service: registry.example.com
    issuer: registry-token-issuer
    rootcertbundle: /root/certs/bundle
    autoredirect: false
    signingalgorithms: [EdDSA, RS256]
middleware:
  storage:
    - name: redirect
      options:
        baseurl: https://example.com/
http:
  addr: 0.0.0.0:5443
  net: tcp
  prefix: /my/nested/registry/
  host: https://myregistryaddress.org:5443
  secret: asecretforlocaldevelopment
  relativeurls: true
  draintimeout: 60s
  tls:
    certificate: /path/to/x509/public
    key: /path/to/x509/private
    clientcas:
      - /path/to/ca.pem
      - /path/to/another/ca.pem
    minimumtls: tls1.3
  debug:
    addr: localhost:5001
    prometheus:
      enabled: true
      path: /metrics
  headers:
    X-Content-Type-Options: [nosniff]
    Strict-Transport-Security: [max-age=31536000]
  http2:
    disabled: false
notifications:
  events:
    includereferences: true
  endpoints:
    - name: alistener
      disabled: false
      url: https://my.listener.com/event
      headers:
        Authorization: [Bearer token]
      timeout: 500ms
      threshold: 5
      backoff: 1s
      ignoredmediatypes:
        - application/octet-stream
redis:
  addr: localhost:6379
  password: asecret
  db: 2
  dialtimeout: 10ms
  readtimeout: 10ms
  writetimeout: 10ms
  pool:
    maxidle: 16
    maxactive: 64
    idletimeout: 300s
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
proxy:
  remoteurl: https://registry-1.docker.io
  username: user
  password: pass
  ttl: 24h
catalog:
  maxentries: 200
tags:
  maxtags: 300
validation:
  manifests:
    urls:
      allow:
        - ^https?://([^/]+\\.)*example\\.com/
      deny:
        - ^https?://www\\.example\\.com/
"""


def parse(text: str, **env: str) -> Config:
    return parse_config(textwrap.dedent(text), env)


def with_section(text: str) -> str:
    """MINIMAL plus ``text`` (more top-level YAML)."""
    return MINIMAL + textwrap.dedent(text)


# --- defaults -----------------------------------------------------------------------------------


def test_embedded_default() -> None:
    config = load_config(None, {})
    assert config.version == "0.1"
    assert config.storage.driver_name == "filesystem"
    assert config.storage.filesystem is not None
    assert config.storage.filesystem.rootdirectory == "./data"
    assert config.storage.driver_params["rootdirectory"] == "./data"
    assert config.storage.delete.enabled is True
    assert config.http.addr == "127.0.0.1:5000"
    assert config.http.host_port() == ("127.0.0.1", 5000)
    assert config.http.headers == {"X-Content-Type-Options": ("nosniff",)}
    assert config.log.level == "info"
    assert config.auth_scheme is None


def test_file_defaults_are_distributions() -> None:
    config = parse("version: 0.1\nstorage: {filesystem: {}}\n")
    assert config.storage.filesystem is not None
    assert config.storage.filesystem.rootdirectory == "/var/lib/registry"
    assert config.storage.filesystem.maxthreads == 100
    assert config.storage.delete.enabled is False
    assert config.storage.redirect.disable is False
    assert config.storage.cache.blobdescriptor == ""
    purging = config.storage.maintenance.uploadpurging
    assert (purging.enabled, purging.age, purging.interval, purging.dryrun) == (
        True,
        timedelta(hours=168),
        timedelta(hours=24),
        False,
    )
    assert config.storage.readonly is False
    assert config.http.addr == ":5000"
    assert config.http.host_port() == ("", 5000)
    assert config.http.net == "tcp"
    assert config.http.headers == {}
    assert config.http.tls.minimumtls == "tls1.2"
    assert (config.log.level, config.log.formatter) == ("info", "text")
    assert config.catalog.maxentries == 1000
    assert config.tags.maxtags == 0  # no maximum: a list without n names every tag
    assert config.proxy.ttl == timedelta(hours=168)
    assert not config.proxy.enabled
    assert not config.redis.enabled


def test_storage_shorthand_string() -> None:
    config = parse("version: 0.1\nstorage: inmemory\n")
    assert config.storage.driver_name == "inmemory"
    assert config.storage.filesystem is None
    assert config.storage.driver_params == {}


def test_out_of_tree_driver_keeps_its_params(caplog: pytest.LogCaptureFixture) -> None:
    config = parse("version: 0.1\nstorage:\n  mydriver:\n    anything: 1\n    nested: {a: b}\n")
    assert config.storage.driver_name == "mydriver"
    assert config.storage.driver_params == {"anything": 1, "nested": {"a": "b"}}
    assert "mydriver" not in caplog.text


def test_maxthreads_is_raised_to_distributions_minimum() -> None:
    config = parse("version: 0.1\nstorage: {filesystem: {maxthreads: 5}}\n")
    assert config.storage.filesystem is not None
    assert config.storage.filesystem.maxthreads == 25


# --- a full file --------------------------------------------------------------------------------


def test_full_configuration(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(FULL)
    config = load_config(path, {})
    assert config.log.level == "debug"
    assert config.log.formatter == "json"
    assert config.log.accesslog.disabled is True
    assert config.log.fields == {"service": "registry", "environment": "development"}
    assert config.log.hooks[0]["type"] == "mail"

    storage = config.storage
    assert storage.driver_name == "s3"
    assert storage.driver_params["bucket"] == "bucketname"
    assert storage.driver_params["chunksize"] == 5242880
    assert storage.driver_params["forcepathstyle"] is True
    assert storage.delete.enabled and storage.redirect.disable and storage.readonly
    assert (storage.cache.blobdescriptor, storage.cache.blobdescriptorsize) == ("redis", 5000)
    assert storage.maintenance.uploadpurging.age == timedelta(hours=72)
    assert storage.maintenance.uploadpurging.interval == timedelta(hours=1, minutes=30)
    assert storage.maintenance.uploadpurging.dryrun is True

    assert config.auth_scheme == "token"
    assert config.auth_params["issuer"] == "registry-token-issuer"
    assert config.auth_params["signingalgorithms"] == ["EdDSA", "RS256"]

    http = config.http
    assert http.host_port() == ("0.0.0.0", 5443)
    assert http.prefix == "/my/nested/registry/"
    assert http.path_prefix == "/my/nested/registry"
    assert http.host == "https://myregistryaddress.org:5443"
    assert http.secret == http.effective_secret == "asecretforlocaldevelopment"
    assert not http.secret_generated
    assert http.relativeurls is True
    assert http.draintimeout == timedelta(seconds=60)
    assert http.tls.enabled
    assert http.tls.clientcas == ("/path/to/ca.pem", "/path/to/another/ca.pem")
    assert http.tls.minimumtls == "tls1.3"
    assert http.debug.addr == "localhost:5001"
    assert http.debug.prometheus.enabled
    assert http.headers["Strict-Transport-Security"] == ("max-age=31536000",)

    endpoint = config.notifications.endpoints[0]
    assert endpoint["url"] == "https://my.listener.com/event"
    assert endpoint["timeout"] == timedelta(milliseconds=500)
    assert endpoint["headers"] == {"Authorization": ["Bearer token"]}
    assert config.notifications.events.includereferences is True

    redis = config.redis
    assert (redis.addr, redis.password, redis.db) == ("localhost:6379", "asecret", 2)
    assert redis.dialtimeout == timedelta(milliseconds=10)
    assert (redis.pool.maxidle, redis.pool.maxactive) == (16, 64)
    assert redis.pool.idletimeout == timedelta(seconds=300)

    assert config.proxy.enabled and config.proxy.ttl == timedelta(hours=24)
    assert config.catalog.maxentries == 200
    assert config.tags.maxtags == 300
    assert config.validation.deny == ("^https?://www\\.example\\.com/",)
    assert config.validation.enabled
    assert config.middleware["storage"][0]["name"] == "redirect"
    assert config.health["storagedriver"]["interval"] == timedelta(seconds=10)


def test_strings_keep_their_text_as_written() -> None:
    config = parse(with_section("http:\n  secret: 0123\n  host: 'https://h:1'\nredis:\n  password: true\n"))
    assert config.http.secret == "0123"
    assert config.redis.password == "true"


def test_integer_durations_are_nanoseconds_as_in_go() -> None:
    assert parse(with_section("http:\n  draintimeout: 60\n")).http.draintimeout == timedelta(0)
    config = parse(with_section("http:\n  draintimeout: 60000000000\n"))
    assert config.http.draintimeout == timedelta(seconds=60)


def test_legacy_loglevel_and_case() -> None:
    assert parse(with_section("loglevel: warn\n")).log.level == "warn"
    assert parse(with_section("loglevel: warn\nlog: {level: ERROR}\n")).log.level == "error"


def test_proxy_ttl_zero_means_never_expire() -> None:
    config = parse(with_section("proxy: {remoteurl: 'https://r.example', ttl: 0s}\n"))
    assert config.proxy.ttl == timedelta(0)


def test_catalog_maxentries_zero_is_default() -> None:
    assert parse(with_section("catalog: {maxentries: 0}\n")).catalog.maxentries == 1000


def test_yaml_anchors_and_merge_keys() -> None:
    text = with_section(
        """\
        x-common: &common {timeout: 1s, threshold: 3}
        notifications:
          endpoints:
            - <<: *common
              name: a
              url: http://a.example/
        """
    )
    config = parse_config(text, {})
    assert config.notifications.endpoints[0]["timeout"] == timedelta(seconds=1)


# --- secret -------------------------------------------------------------------------------------


def test_missing_secret_is_generated_and_flagged() -> None:
    first, second = parse(MINIMAL).http, parse(MINIMAL).http
    assert first.secret == ""
    assert first.secret_generated
    assert len(first.effective_secret) >= 32
    assert first.effective_secret != second.effective_secret
    assert first == second  # the random secret does not take part in equality
    assert "http.secret" in RANDOM_SECRET_WARNING


def test_malformed_yaml_and_top_level() -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse("version: 0.1\nstorage: [\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse("- a\n- b\n")


def test_missing_file_is_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_config(tmp_path / "nope.yml", {})


def test_unix_socket_addr_is_not_split() -> None:
    config = parse(with_section("http: {net: unix, addr: /run/registry.sock}\n"))
    assert (config.http.net, config.http.addr) == ("unix", "/run/registry.sock")


# --- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        (":5000", ("", 5000)),
        ("0.0.0.0:5000", ("0.0.0.0", 5000)),
        ("localhost:80", ("localhost", 80)),
        ("[::1]:5000", ("::1", 5000)),
        ("[::]:0", ("::", 0)),
    ],
)
def test_split_host_port(addr: str, expected: tuple[str, int]) -> None:
    assert split_host_port(addr) == expected


@pytest.mark.parametrize(
    "addr", ["abc", "", ":", "host:", "::1:5000", "[::1]5000", "[::1", "h:65536", "h:http", "h:-1"]
)
def test_split_host_port_rejects(addr: str) -> None:
    with pytest.raises(ValueError):
        split_host_port(addr)


def test_public_names() -> None:
    expected: set[str] = {
        "DEFAULT_CONFIG_YAML",
        "RANDOM_SECRET_WARNING",
        "AccessLogConfig",
        "CacheConfig",
        "CatalogConfig",
        "Config",
        "ConfigError",
        "DebugConfig",
        "DeleteConfig",
        "EventsConfig",
        "FilesystemConfig",
        "H2CConfig",
        "HTTP2Config",
        "HTTPConfig",
        "HTTPLimitsConfig",
        "LogConfig",
        "MaintenanceConfig",
        "NotificationsConfig",
        "PrometheusConfig",
        "ProxyConfig",
        "ReadOnlyConfig",
        "RedirectConfig",
        "RedisConfig",
        "RedisPoolConfig",
        "RedisTLSConfig",
        "StorageConfig",
        "TLSConfig",
        "TagsConfig",
        "UploadPurgingConfig",
        "ValidationConfig",
        "format_duration",
        "generate_http_secret",
        "load_config",
        "parse_config",
        "parse_duration",
        "split_host_port",
    }
    assert set(config_pkg.__all__) == expected
    exported: dict[str, Any] = vars(config_pkg)
    assert all(name in exported for name in expected)


def test_validation_url_rules_must_compile() -> None:
    with pytest.raises(ConfigError, match=r"^validation\.manifests\.urls\.allow: invalid regular expression"):
        parse(with_section("validation: {manifests: {urls: {allow: ['(unclosed']}}}\n"))


def test_validation_is_on_unless_disabled() -> None:
    assert parse(MINIMAL).validation.enabled
    assert not parse(with_section("validation: {disabled: true}\n")).validation.enabled
    assert parse(with_section("validation: {enabled: true, disabled: true}\n")).validation.enabled
