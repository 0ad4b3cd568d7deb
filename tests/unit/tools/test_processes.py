"""The process starter the test tiers and the benchmark share: one config merge for both."""

from __future__ import annotations

from pathlib import Path

import yaml
from registry_toolkit import processes
from registry_toolkit.bench import servers


def test_merge_is_deep_and_none_removes() -> None:
    base = {
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": "/x"}, "delete": {"enabled": True}},
    }
    out = processes.merge(
        base, {"storage": {"filesystem": None, "s3": {"bucket": "b"}}, "log": {"level": "warn"}}
    )
    assert out == {"log": {"level": "warn"}, "storage": {"delete": {"enabled": True}, "s3": {"bucket": "b"}}}
    assert base["storage"]["filesystem"] == {"rootdirectory": "/x"}  # the base is not changed
    assert processes.merge({"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"c": 3}}}) == {
        "a": {"b": {"c": 3, "d": 2}}
    }
    assert processes.merge({"a": 1}, {"a": None, "b": [1]}) == {"b": [1]}


def test_write_config_merges_overrides_after_port_and_root(tmp_path: Path) -> None:
    path = processes.write_config(tmp_path / "c.yml", 5000, tmp_path / "data", {"http": {"secret": "s"}})
    config = yaml.safe_load(path.read_text())
    assert config["http"] == {"addr": "127.0.0.1:5000", "secret": "s"}
    assert config["storage"]["filesystem"] == {"rootdirectory": str(tmp_path / "data")}


def test_the_bench_starts_registries_through_the_shared_starter() -> None:
    assert servers.Process is processes.Server
    settings = servers._settings(Path("/data"), {"log": {"accesslog": {"disabled": True}}})
    assert settings["config_overrides"] == {"log": {"level": "warn", "accesslog": {"disabled": True}}}
    assert settings["root"] == Path("/data")
