"""A moto S3 server on loopback for the driver and interop tiers: one process per session, a bucket per user.

``running_moto(directory)`` starts ``python -m moto.server`` on a free port, waits until it answers and stops
its process group afterwards; ``MotoS3.bucket()`` creates a fresh bucket, ``MotoS3.params(bucket)`` gives
distribution's ``storage.s3`` keys for it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.processes import free_port

READY_TIMEOUT = 20.0
ACCESS_KEY = "moto-access"
SECRET_KEY = "moto-secret"
REGION = "us-east-1"


class MotoUnavailable(RuntimeError):
    """moto's server extras (flask, werkzeug) are missing: ``pip install 'moto[server]'``."""


@dataclass
class MotoS3:
    endpoint: str
    proc: subprocess.Popen[bytes]
    log: Path
    _client: Any = field(default=None, init=False, repr=False)

    def client(self) -> Any:
        """A boto3 client for the test's own requests (one per server: clients are thread-safe)."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def bucket(self, prefix: str = "test") -> str:
        """A new, empty bucket with a unique name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def params(self, bucket: str, **overrides: Any) -> dict[str, Any]:
        """``storage.s3`` configuration for ``bucket`` on this server (distribution's keys)."""
        return {
            "bucket": bucket,
            "region": REGION,
            "regionendpoint": self.endpoint,
            "forcepathstyle": True,
            "accesskey": ACCESS_KEY,
            "secretkey": SECRET_KEY,
            "secure": False,
            **overrides,
        }

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key in ``bucket`` under ``prefix`` (for assertions on the layout)."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents") or ()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("moto", "flask", "werkzeug"))


def require() -> None:
    """Skip the calling test or fixture when moto's server extras are missing; in CI (``CI=true``) fail it,
    so a missing S3 endpoint never passes for a tested S3 tier."""
    if available():
        return
    message = "moto's server extras are not installed: pip install 'moto[server]'"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def start_moto(directory: Path) -> MotoS3:
    """A moto S3 server on a free loopback port (a lost port race is retried with another port)."""
    if not available():
        raise MotoUnavailable("moto's server extras are not installed: pip install 'moto[server]'")
    directory.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        port = free_port()
        log = directory / f"moto-{port}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server = MotoS3(f"http://127.0.0.1:{port}", proc, log)
        if _wait_ready(server):
            return server
        server.stop()
    raise RuntimeError(f"moto server did not start:\n{log.read_text(errors='replace')[-4000:]}")


def _wait_ready(server: MotoS3) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                return False
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{server.endpoint}/moto-api/").status_code < 500:
                    time.sleep(0.1)  # one that failed to bind exits at once: then the answer was a stranger's
                    return server.proc.poll() is None
            time.sleep(0.05)
    return False


@contextlib.contextmanager
def running_moto(directory: Path) -> Iterator[MotoS3]:
    server = start_moto(directory)
    try:
        yield server
    finally:
        server.stop()
