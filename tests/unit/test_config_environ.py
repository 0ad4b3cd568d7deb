"""Tests of REGISTRY_* environment overrides, applied as distribution's parser applies them."""

from __future__ import annotations

import logging
import textwrap
from datetime import timedelta

import pytest

from registry_impl.config import Config, ConfigError, load_config, parse_config

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


# --- environment overrides ----------------------------------------------------------------------


def test_env_nested_scalars() -> None:
    config = parse(
        MINIMAL,
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="/x",
        REGISTRY_HTTP_ADDR="0.0.0.0:5000",
        REGISTRY_LOG_LEVEL="debug",
        REGISTRY_HTTP_SECRET="0123",
        REGISTRY_HTTP_DRAINTIMEOUT="1m30s",
    )
    assert config.storage.filesystem is not None
    assert config.storage.filesystem.rootdirectory == "/x"
    assert config.http.host_port() == ("0.0.0.0", 5000)
    assert config.log.level == "debug"
    assert config.http.secret == "0123"
    assert config.http.draintimeout == timedelta(seconds=90)


def test_env_values_are_yaml_scalars() -> None:
    config = parse(
        "version: 0.1\nstorage: {filesystem: {}}\n",
        REGISTRY_STORAGE_DELETE_ENABLED="true",
        REGISTRY_CATALOG_MAXENTRIES="50",
        REGISTRY_HTTP_RELATIVEURLS="yes",
    )
    assert config.storage.delete.enabled is True
    assert config.catalog.maxentries == 50
    assert config.http.relativeurls is True


def test_env_storage_selects_driver_replacing_the_section() -> None:
    config = parse(
        MINIMAL,
        REGISTRY_STORAGE="s3",
        REGISTRY_STORAGE_S3_BUCKET="b",
        REGISTRY_STORAGE_S3_REGION="us-east-1",
        REGISTRY_STORAGE_S3_CHUNKSIZE="5242880",
        REGISTRY_STORAGE_S3_SECURE="false",
    )
    assert config.storage.driver_name == "s3"
    assert config.storage.filesystem is None
    assert config.storage.driver_params == {
        "bucket": "b",
        "region": "us-east-1",
        "chunksize": 5242880,
        "secure": False,
    }
    # distribution replaces the whole storage section: the file's delete.enabled is gone too
    assert config.storage.delete.enabled is False


def test_env_storage_switch_keeps_later_subsection_overrides() -> None:
    config = parse(MINIMAL, REGISTRY_STORAGE="inmemory", REGISTRY_STORAGE_DELETE_ENABLED="true")
    assert config.storage.driver_name == "inmemory"
    assert config.storage.delete.enabled is True


def test_env_driver_params_without_switch_is_a_second_driver() -> None:
    with pytest.raises(ConfigError, match=r"^storage: .*filesystem, s3"):
        parse(MINIMAL, REGISTRY_STORAGE_S3_BUCKET="b")


def test_env_map_keys_match_case_insensitively_on_the_way_down() -> None:
    # As distribution: an existing key is followed whatever its case, but the last segment always
    # sets its lower-cased key (so ``someKey`` gains a ``somekey`` sibling).
    config = parse(
        "version: 0.1\nstorage:\n  MyDriver:\n    someKey: 1\n",
        REGISTRY_STORAGE_MYDRIVER_SOMEKEY="2",
        REGISTRY_STORAGE_MYDRIVER_NEWKEY="3",
    )
    assert config.storage.driver_name == "MyDriver"
    assert config.storage.driver_params == {"someKey": 1, "somekey": 2, "newkey": 3}


def test_env_auth_scheme_and_params() -> None:
    config = parse(
        MINIMAL,
        REGISTRY_AUTH="htpasswd",
        REGISTRY_AUTH_HTPASSWD_REALM="Registry Realm",
        REGISTRY_AUTH_HTPASSWD_PATH="/auth/htpasswd",
    )
    assert config.auth_scheme == "htpasswd"
    assert config.auth_params == {"realm": "Registry Realm", "path": "/auth/htpasswd"}


def test_env_whole_section_as_yaml() -> None:
    config = parse(MINIMAL, REGISTRY_HTTP='{addr: ":6000", relativeurls: true}')
    assert config.http.host_port() == ("", 6000)
    assert config.http.relativeurls is True


def test_env_lists_by_index() -> None:
    text = with_section(
        """\
        notifications:
          endpoints:
            - {name: a, url: "http://a/"}
        """
    )
    config = parse(
        text,
        REGISTRY_NOTIFICATIONS_ENDPOINTS_0_URL="http://changed/",
        REGISTRY_NOTIFICATIONS_ENDPOINTS_1_NAME="b",
        REGISTRY_NOTIFICATIONS_ENDPOINTS_1_URL="http://b/",
        REGISTRY_HTTP_TLS_CLIENTCAS_0="/ca.pem",
    )
    endpoints = config.notifications.endpoints
    assert [(e["name"], e["url"]) for e in endpoints] == [("a", "http://changed/"), ("b", "http://b/")]
    assert config.http.tls.clientcas == ("/ca.pem",)


def test_env_creates_missing_parameter_maps() -> None:
    config = parse(
        MINIMAL,
        REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED="false",
        REGISTRY_STORAGE_MAINTENANCE_READONLY="{enabled: true}",
    )
    assert config.storage.maintenance.uploadpurging.enabled is False
    assert config.storage.readonly is True


def test_env_keys_with_underscores_need_the_parent_map() -> None:
    config = parse(
        "version: 0.1\nstorage:\n  gcs:\n    bucket: b\n",
        REGISTRY_STORAGE_GCS_CREDENTIALS="{type: service_account, private_key: k}",
        REGISTRY_STORAGE_GCS_KEY_FILE="/split",
    )
    params = config.storage.driver_params
    assert params["credentials"] == {"type": "service_account", "private_key": "k"}
    assert params["key"] == {"file": "/split"}  # split at the underscore, as distribution does


def test_env_go_field_names_not_yaml_keys() -> None:
    config = parse(MINIMAL, REGISTRY_NOTIFICATIONS_EVENTCONFIG_INCLUDEREFERENCES="true")
    assert config.notifications.events.includereferences is True


@pytest.mark.parametrize(
    "name",
    ["REGISTRY_HTTP_BOGUS", "REGISTRY_NOTIFICATIONS_EVENTS_INCLUDEREFERENCES", "REGISTRY_http_addr"],
)
def test_env_unrecognized_is_a_warning(name: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        config = parse(MINIMAL, **{name: "x"})
    assert name in caplog.text
    assert config.http.addr == ":5000"


def test_env_ignores_other_and_locator_variables(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        parse(MINIMAL, REGISTRY_CONFIGURATION_PATH="/etc/x.yml", REGISTRY_VERSION="9.9", HOME="/root")
    assert caplog.text == ""


def test_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_LOG_LEVEL", "warn")
    assert load_config(None).log.level == "warn"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"REGISTRY_HTTP_RELATIVEURLS": "maybe"}, "http.relativeurls"),
        ({"REGISTRY_HTTP_DRAINTIMEOUT": "soon"}, "http.draintimeout"),
        ({"REGISTRY_CATALOG_MAXENTRIES": "many"}, "catalog.maxentries"),
        ({"REGISTRY_HTTP_TLS_CLIENTCAS_X": "/ca"}, "http.tls.clientcas"),
        ({"REGISTRY_HTTP_TLS_CLIENTCAS_3": "/ca"}, "http.tls.clientcas"),
        ({"REGISTRY_LOG_LEVEL": "loud"}, "log.level"),
    ],
)
def test_env_invalid_values_name_key_and_variable(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(MINIMAL, **env)
    assert str(info.value).startswith(f"{key}: ")
    assert info.value.key == key
    if key != "log.level":
        assert next(iter(env)) in str(info.value)
