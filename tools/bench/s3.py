"""A moto S3 server on loopback for ``registry-bench --s3``: one process, a bucket per registry, and
distribution's ``storage`` section pointing at it (blobs served by the registry, not redirected to S3).

Buckets are made and blobs dropped with boto3 (moto refuses unsigned object requests with 403).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from registry_toolkit import processes
from registry_toolkit.bench import servers

ACCESS_KEY = "bench-access"
SECRET_KEY = "bench-secret"
REGION = "us-east-1"
BLOBS_PREFIX = "docker/registry/v2/blobs"


def available() -> bool:
    """Whether moto's server (it needs flask and werkzeug) can run in this interpreter."""
    return all(importlib.util.find_spec(name) is not None for name in ("moto", "flask", "werkzeug"))


@dataclass
class MotoS3:
    """The running moto server; ``process.url`` is the S3 endpoint."""

    process: servers.Process
    client: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    @property
    def endpoint(self) -> str:
        return self.process.url

    def create_bucket(self, name: str) -> str:
        self.client.create_bucket(Bucket=name)
        return name

    def storage(self, bucket: str) -> dict[str, Any]:
        """distribution's ``storage`` overrides for ``bucket``: the S3 driver instead of the filesystem one."""
        return {
            "filesystem": None,
            "s3": {
                "bucket": bucket,
                "region": REGION,
                "regionendpoint": self.endpoint,
                "forcepathstyle": True,
                "secure": False,
                "accesskey": ACCESS_KEY,
                "secretkey": SECRET_KEY,
            },
            "redirect": {"disable": True},
        }

    def forget_blob(self, bucket: str, digest: str) -> None:
        """Delete a blob's data object, so pushed blobs do not pile up in moto's memory."""
        hex_ = digest.split(":", 1)[1]
        self.client.delete_object(Bucket=bucket, Key=f"{BLOBS_PREFIX}/sha256/{hex_[:2]}/{hex_}/data")

    def stop(self) -> None:
        self.client.close()
        self.process.stop()


def start_moto(workdir: Path) -> MotoS3:
    """``python -m moto.server`` on a free loopback port; returns once it answers."""
    if not available():
        raise servers.ServerFailed("moto's server is not installed: pip install 'moto[server]'")
    workdir.mkdir(parents=True, exist_ok=True)
    port = processes.free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = processes.spawn("moto", argv, workdir, processes.clean_environ())
    process = processes.Server(
        "moto", port, proc, workdir, workdir / "moto.log", stop_timeout=servers.STOP_TIMEOUT
    )
    try:
        processes.wait_ready(process, "/moto-api/", ok=(200,), timeout=servers.READY_TIMEOUT)
    except BaseException:
        process.stop()
        raise
    return MotoS3(process)
