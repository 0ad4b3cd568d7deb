"""``registry serve`` as a process: environment overrides reach the server, a bad value stops startup."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
import yaml
from testkit.oci_layout import OciLayout
from testkit.processes import (
    Server,
    Spawner,
    clean_environ,
    free_port,
    ours_command,
    run_to_exit,
    wait_ready,
    write_config,
)
from testkit.processes import spawn as spawn_process
from testkit.skopeo import Skopeo


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_environment_overrides_address_and_root(spawn: Spawner, tmp_path: Path, server: str) -> None:
    file_port, env_port = free_port(), free_port()
    file_root, env_root = tmp_path / "root-from-file", tmp_path / "root-from-env"
    started = spawn.ours(
        overrides={
            "http": {"addr": f"127.0.0.1:{file_port}"},
            "storage": {"filesystem": {"rootdirectory": str(file_root)}},
        },
        env={
            "REGISTRY_HTTP_ADDR": f"127.0.0.1:{env_port}",
            "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": str(env_root),
        },
        port=env_port,  # where it is expected to listen: start_ours waits for GET /v2/ there
        root=env_root,
        server=server,
    )

    with started.client() as client:
        blob = b"written under the root the environment named"
        r = client.post(
            "/v2/serve/env/blobs/uploads/",
            params={"digest": "sha256:" + hashlib.sha256(blob).hexdigest()},
            content=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 201, r.text
    assert (env_root / "docker" / "registry" / "v2" / "repositories" / "serve" / "env").is_dir()
    assert not file_root.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{file_port}/v2/", timeout=2.0)

    assert started.stop() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{started.url}/v2/", timeout=2.0)


@pytest.mark.parametrize(
    ("overrides", "env", "key"),
    [
        ({"storage": {"delete": {"enabled": "maybe"}}}, {}, "storage.delete.enabled"),
        ({"log": {"level": "chatty"}}, {}, "log.level"),
        ({}, {"REGISTRY_HTTP_NET": "carrier-pigeon"}, "http.net"),
        ({}, {"REGISTRY_HTTP_HOST": "not a url"}, "http.host"),
    ],
    ids=["file-boolean", "file-log-level", "env-network", "env-host"],
)
def test_an_invalid_value_stops_startup_naming_the_key(
    tmp_path: Path, overrides: dict[str, object], env: dict[str, str], key: str
) -> None:
    command = ours_command()
    if command is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    config = write_config(tmp_path / "config.yml", free_port(), tmp_path / "data", overrides)

    status, output = run_to_exit([*command, "serve", str(config)], {**clean_environ(), **env})

    assert status is not None, f"still running after the timeout with an invalid {key}:\n{output}"
    assert status != 0, output
    assert key in output, output
    assert "Traceback" not in output, output


def test_a_busy_port_stops_startup_with_one_line(tmp_path: Path) -> None:

    command = ours_command()
    if command is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        config = write_config(tmp_path / "config.yml", port, tmp_path / "data")
        status, output = run_to_exit([*command, "serve", str(config)], clean_environ())
    assert status == 1, output
    assert f"http.addr: cannot listen on 127.0.0.1:{port}" in output, output
    assert "Traceback" not in output and "panicked" not in output, output


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_skopeo_round_trip_on_each_server(
    spawn: Spawner, skopeo: Skopeo, tmp_path: Path, server: str
) -> None:
    started = spawn.ours(server=server, workers=2)
    source = OciLayout(tmp_path / "source", seed=5)
    index = source.add_index("multi")
    skopeo.copy(f"oci:{source.path}:multi", started.ref("serve/multi", "m"), "--all")

    back = OciLayout(tmp_path / "back")
    skopeo.copy(started.ref("serve/multi", "m"), f"oci:{back.path}:m", "--all")
    assert back.manifest("m")[1] == index.content
    for digest in source.blob_digests(index.digest):
        assert back.read_blob(digest) == source.read_blob(digest)


def test_refused_keys_stop_startup_one_line_each(tmp_path: Path) -> None:
    command = ours_command()
    if command is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    overrides = {
        "middleware": {"storage": [{"name": "cloudfront"}]},
        "http": {"tls": {"letsencrypt": {"cachefile": str(tmp_path / "le"), "email": "a@example.com"}}},
    }
    config = write_config(tmp_path / "config.yml", free_port(), tmp_path / "data", overrides)

    status, output = run_to_exit([*command, "serve", str(config)], clean_environ())

    assert status == 1, output
    refused = [line for line in output.splitlines() if ": refused: " in line]
    assert len(refused) == 2, output
    assert any("http.tls.letsencrypt: refused: " in line for line in refused), output
    assert any("middleware: refused: " in line for line in refused), output
    assert "Traceback" not in output, output


def test_warned_keys_start_with_one_line_each_and_requests_are_logged(spawn: Spawner) -> None:
    started = spawn.ours(
        overrides={
            "log": {
                "formatter": "json",
                "fields": {"service": "registry"},
                "hooks": [{"type": "mail", "levels": ["panic"]}],
            },
            "policy": {"repository": {"classes": ["image"]}},
            "storage": {"tag": {"concurrencylimit": 4}},
            "catalog": {"bogus": 1},
        },
        workers=2,
    )
    with started.client() as client:
        assert client.get("/v2/").status_code == 200
    started.stop()
    text = started.log_text(tail=None)
    warned = [line for line in text.splitlines() if ": ignored: " in line]
    assert len(warned) == 3, text  # one line per key, not one per worker
    for key in ("policy", "log.hooks", "storage.tag"):
        line = next(line for line in warned if f'"{key}: ignored: ' in line)
        assert json.loads(line)["service"] == "registry", line
    access = [json.loads(line) for line in text.splitlines() if '"http.response.status"' in line]
    assert any(a["msg"].count('"GET /v2/ HTTP/1.1" 200') for a in access), text  # the access log is on by default
    assert text.count("unknown configuration key catalog.bogus") == 1, text


def _push(client: httpx.Client, repository: str, layers: list[bytes]) -> None:
    """Blobs by single POST, then an OCI manifest naming them (the first one as the config)."""
    descriptors = []
    for blob in layers:
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        r = client.post(
            f"/v2/{repository}/blobs/uploads/",
            params={"digest": digest},
            content=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 201, r.text
        descriptors.append({"mediaType": "application/octet-stream", "digest": digest, "size": len(blob)})
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {**descriptors[0], "mediaType": "application/vnd.oci.image.config.v1+json"},
        "layers": descriptors[1:],
    }
    r = client.put(
        f"/v2/{repository}/manifests/v1",
        content=json.dumps(manifest).encode(),
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 201, r.text


def test_operator_commands_version_liveness_and_usage(spawn: Spawner) -> None:
    command = ours_command()
    assert command is not None
    for argv in (["--version"], ["version"]):
        status, output = run_to_exit([*command, *argv], clean_environ())
        assert status == 0 and output.startswith("registry pydistribution 0.1.0 (API registry/2.0"), output

    started = spawn.ours()
    r = httpx.get(f"{started.url}/", timeout=10.0)  # distribution's liveness answer, probed by Helm charts
    assert (r.status_code, r.content, r.headers["Cache-Control"]) == (200, b"", "no-cache")
    config, shared = {"k": "v"}, b"s" * 10_000
    with started.client() as client:
        _push(client, "ops/app", [json.dumps(config).encode(), shared, b"a" * 3_000])
        _push(client, "ops/tool", [json.dumps(config).encode(), shared, b"t" * 1_000])

    assert started.config is not None
    status, output = run_to_exit([*command, "usage", "--json", str(started.config)], clean_environ())
    assert status == 0, output
    report = json.loads(output)
    usage = {repo["name"]: repo for repo in report["repositories"]}
    assert sorted(usage) == ["ops/app", "ops/tool"]
    assert usage["ops/app"]["blobs"] == 4  # config, two layers, the manifest
    assert usage["ops/app"]["shared"] == usage["ops/tool"]["shared"] == 10_000 + len(json.dumps(config))
    assert usage["ops/app"]["unique"] - usage["ops/tool"]["unique"] == 3_000 - 1_000  # manifests of one size
    assert report["totals"]["linked"] == report["totals"]["stored"]
    status, output = run_to_exit([*command, "usage", str(started.config)], clean_environ())
    assert status == 0 and output.splitlines()[1].startswith("ops/app "), output
    assert output.splitlines()[-1].startswith("2 repositories link "), output


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "{missing}"],
        ["usage", "{missing}"],
        ["serve", "{bad}"],
        ["usage", "{bad}"],
        ["garbage-collect", "{bad}"],
    ],
    ids=["serve-missing-file", "usage-missing-file", "serve-bad-key", "usage-bad-key", "gc-bad-key"],
)
def test_configuration_errors_exit_1_with_one_line(tmp_path: Path, argv: list[str]) -> None:
    command = ours_command()
    assert command is not None
    bad = write_config(tmp_path / "bad.yml", free_port(), tmp_path / "data", {"log": {"level": "chatty"}})
    paths = {"missing": str(tmp_path / "absent.yml"), "bad": str(bad)}

    status, output = run_to_exit([*command, *(arg.format(**paths) for arg in argv)], clean_environ())

    assert status == 1, output  # as distribution's registry: 1 for a configuration error
    (line,) = output.splitlines()
    assert line.startswith("registry: configuration error: "), output
    assert ("log.level: " if "bad" in argv[1] else "absent.yml: No such file") in line, output


def _start(
    tmp_path: Path,
    overrides: dict[str, object],
    *,
    ready: str = "/v2/",
    config_arg: bool = True,
    env: dict[str, str] | None = None,
    server: str = "granian",
    port: int | None = None,
) -> Server:
    """``registry serve`` with a config written from ``overrides``, ready once ``GET ready`` answers on
    127.0.0.1 (for configurations ``spawn.ours`` cannot wait on: a prefix, no config argument)."""
    command = ours_command()
    if command is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    port = port or free_port()
    config = write_config(tmp_path / "config.yml", port, tmp_path / "data", overrides)
    argv = [*command, "serve", *([str(config)] if config_arg else []), "--server", server]
    environ = {**clean_environ(), **(env or {})}
    proc = spawn_process("ours", argv, tmp_path, environ)
    started = Server("ours", port, proc, tmp_path / "data", tmp_path / "ours.log", config)
    try:
        wait_ready(started, ready)
    except BaseException:
        started.stop()
        raise
    return started


def test_http_prefix_serves_under_the_prefix_only(tmp_path: Path) -> None:
    started = _start(tmp_path, {"http": {"prefix": "/my/registry/"}}, ready="/my/registry/v2/")
    try:
        with started.client() as client:
            assert client.get("/v2/").status_code == 404
            r = client.post("/my/registry/v2/p/blobs/uploads/")
            assert r.status_code == 202, r.text
            assert r.headers["Location"].startswith(f"{started.url}/my/registry/v2/p/blobs/uploads/")
    finally:
        started.stop()


def test_configuration_path_from_the_environment_without_an_argument(tmp_path: Path) -> None:
    env = {"REGISTRY_CONFIGURATION_PATH": str(tmp_path / "config.yml")}
    started = _start(tmp_path, {"log": {"formatter": "json"}}, config_arg=False, env=env)
    try:
        with started.client() as client:
            blob = b"the workers read the file the supervisor read"
            r = client.post(
                "/v2/env/path/blobs/uploads/",
                params={"digest": "sha256:" + hashlib.sha256(blob).hexdigest()},
                content=blob,
                headers={"Content-Type": "application/octet-stream"},
            )
            assert r.status_code == 201, r.text
        assert (tmp_path / "data" / "docker" / "registry" / "v2" / "repositories" / "env" / "path").is_dir()
    finally:
        started.stop()


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_an_address_without_host_listens_on_ipv4_and_ipv6(tmp_path: Path, server: str) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    port = free_port()
    started = _start(tmp_path, {"http": {"addr": f":{port}"}}, server=server, port=port)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=5.0).status_code == 200
        assert httpx.get(f"http://[::1]:{port}/v2/", timeout=5.0).status_code == 200
    finally:
        started.stop()


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_unix_socket(tmp_path: Path, server: str) -> None:
    command = ours_command()
    if command is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    path = tmp_path / "registry.sock"
    config = write_config(
        tmp_path / "config.yml", free_port(), tmp_path / "data", {"http": {"net": "unix", "addr": str(path)}}
    )
    proc = spawn_process(
        "ours", [*command, "serve", str(config), "--server", server], tmp_path, clean_environ()
    )
    started = Server("ours", 0, proc, tmp_path / "data", tmp_path / "ours.log", config)
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), base_url="http://registry") as client:
            while True:
                assert proc.poll() is None, started.log_text()
                try:
                    if client.get("/v2/").status_code == 200:
                        break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, started.log_text()
                    time.sleep(0.05)
    finally:
        started.stop()


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_sigterm_drains_a_request_in_flight_within_draintimeout(spawn: Spawner, server: str) -> None:
    """A PATCH whose body is still arriving when the server is told to stop completes (202), and the
    server then exits on its own, well within ``http.draintimeout``."""
    started = spawn.ours(overrides={"http": {"draintimeout": "20s"}}, server=server)
    with started.client() as client:
        opened = client.post("/v2/drain/me/blobs/uploads/")
        assert opened.status_code == 202, opened.text
    location = httpx.URL(opened.headers["Location"])
    target = location.raw_path.decode()
    body = b"x" * 200_000
    with socket.create_connection(("127.0.0.1", started.port), timeout=15) as conn:
        conn.sendall(
            f"PATCH {target} HTTP/1.1\r\nHost: {started.host}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:1000]
        )
        time.sleep(0.5)  # the request has reached the application
        os.kill(started.pid, signal.SIGTERM)
        time.sleep(1.5)
        assert started.running, "the server stopped with a request in flight:\n" + started.log_text()
        conn.sendall(body[1000:])
        answer = conn.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 202"), answer + "\n" + started.log_text()
    started.proc.wait(15)  # then it stops by itself


def test_every_section_of_distributions_reference_one_line_per_unsupported_key(tmp_path: Path) -> None:
    """A config.yml using every section: one line per refused or warned key the table lists, no more, no
    less (each key named once: workers do not repeat the supervisor's lines), and refused keys stop it."""
    from registry_impl.config import parse_config

    command = ours_command()
    if command is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    every = yaml.safe_load(EVERY_SECTION)
    config = write_config(tmp_path / "config.yml", free_port(), tmp_path / "data", every)
    findings = parse_config(config.read_text(), {}).findings

    status, output = run_to_exit([*command, "serve", str(config)], clean_environ())

    assert status == 1, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if ": refused: " in line or ": ignored: " in line]
    assert len(lines) == len(findings), output
    for finding in findings:
        assert sum(f"{finding.key}: " in line for line in lines) == 1, (finding.key, output)


EVERY_SECTION = """\
log:
  accesslog: {disabled: false}
  level: info
  formatter: json
  fields: {service: registry}
  hooks: [{type: mail, levels: [panic], options: {to: [a@example.com]}}]
  reportcaller: true
loglevel: info
auth: {htpasswd: {realm: basic-realm, path: /dev/null}}
middleware:
  registry: [{name: ARegistryMiddleware, options: {foo: bar}}]
  storage: [{name: cloudfront, options: {baseurl: https://cdn.example/}}]
reporting:
  bugsnag: {apikey: k, releasestage: production}
  newrelic: {licensekey: k, name: registry, verbose: true}
http:
  prefix: /my/nested/registry/
  host: https://myregistryaddress.org:5000
  relativeurls: false
  draintimeout: 60s
  tls: {letsencrypt: {cachefile: /tmp/le, email: a@example.com, hosts: [r.example.com]}}
  debug: {addr: localhost:5001, prometheus: {enabled: true, path: /metrics}}
  headers: {X-Content-Type-Options: [nosniff]}
  http2: {disabled: false}
notifications:
  events: {includereferences: true}
  endpoints: [{name: alistener, url: https://my.listener.com/event, timeout: 1s, threshold: 10, backoff: 1s}]
redis:
  addrs: [localhost:6379]
  db: 0
  dialtimeout: 10ms
  maxidleconns: 16
  poolsize: 64
  connmaxidletime: 300s
health:
  storagedriver: {enabled: true, interval: 10s, threshold: 3}
  file: [{file: /path/to/checked/file, interval: 10s}]
  http: [{uri: http://server.to.check/must/return/200, headers: {Authorization: [Basic x]}, statuscode: 200}]
  tcp: [{addr: redis-server.domain.com:6379, timeout: 3s, interval: 10s, threshold: 3}]
catalog: {maxentries: 100}
proxy: {remoteurl: https://registry-1.docker.io, username: u, password: p, ttl: 168h}
compatibility: {schema1: {signingkeyfile: /etc/registry/key.json, enabled: true}}
validation:
  manifests:
    urls: {allow: ['^https?://([^/]+\\.)*example\\.com/'], deny: ['^https?://www\\.example\\.com/']}
    indexes: {platforms: list, platformlist: [{architecture: amd64, os: linux}]}
policy: {repository: {classes: [image]}}
"""


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_request_still_in_flight_after_draintimeout_does_not_hold_the_stop(
    spawn: Spawner, server: str
) -> None:
    started = spawn.ours(overrides={"http": {"draintimeout": "2s"}}, server=server)
    with started.client() as client:
        opened = client.post("/v2/drain/stuck/blobs/uploads/")
        assert opened.status_code == 202, opened.text
    target = httpx.URL(opened.headers["Location"]).raw_path.decode()
    with socket.create_connection(("127.0.0.1", started.port), timeout=15) as conn:
        conn.sendall(
            f"PATCH {target} HTTP/1.1\r\nHost: {started.host}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: 1000000\r\n\r\n".encode()
            + b"x" * 1000
        )
        time.sleep(0.5)
        stopping = time.monotonic()
        os.kill(started.pid, signal.SIGTERM)
        started.proc.wait(12)  # the body never completes: the stop is bounded by draintimeout, not by it
        assert time.monotonic() - stopping < 8, started.log_text()
