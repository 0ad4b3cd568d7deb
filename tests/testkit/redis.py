"""A real ``redis-server`` on a free loopback port (no persistence) for cache and replica tests.

``redis_server_binary()`` skips the test when the binary is absent, but fails it under CI (``CI`` set),
where redis-server is installed and the Redis tests must run. ``start_redis`` returns once PING answers;
``RedisServer.stop()`` terminates, waits and kills.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from testkit.processes import free_port

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 3


def redis_server_binary() -> str:
    """The redis-server path; skip (fail under CI) when it is not installed."""
    found = shutil.which("redis-server")
    if found is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the Redis tests")
        pytest.skip(reason)
    return found


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def addr(self) -> str:
        """``127.0.0.1:PORT``, the ``redis.addr`` configuration value."""
        return f"127.0.0.1:{self.port}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, decode_responses=True)

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)


def _spawn(binary: str, tmp_dir: Path, port: int) -> RedisServer:
    log = tmp_dir / f"redis-{port}.log"
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(tmp_dir), "--logfile", str(log)]
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    return RedisServer(port, proc, log)


def _wait_ready(server: RedisServer) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    client = server.client()
    try:
        while time.monotonic() < deadline and server.running():
            try:
                if client.ping():
                    time.sleep(0.05)  # one that lost the port exits at once: the answer was a stranger's
                    return server.running()
            except redis.ConnectionError:
                time.sleep(0.02)
        return False
    finally:
        client.close()


def start_redis(tmp_dir: Path, port: int | None = None) -> RedisServer:
    """Start redis-server (on ``port``, else a free one) and wait until it answers PING."""
    binary = redis_server_binary()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(1 if port else PORT_ATTEMPTS):
        server = _spawn(binary, tmp_dir, port or free_port())
        if _wait_ready(server):
            return server
        server.stop()
    log = server.log.read_text(errors="replace") if server.log.exists() else ""
    raise RuntimeError(f"redis-server did not start on port {server.port}:\n{log}")


@contextmanager
def running_redis(tmp_dir: Path) -> Iterator[RedisServer]:
    """A redis-server for the duration of the block."""
    server = start_redis(tmp_dir)
    try:
        yield server
    finally:
        server.stop()
