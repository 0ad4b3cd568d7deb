"""Shared fixtures of the driver tier: a moto S3 server for the whole session (skipped when moto's server
extras are missing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testkit import s3


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[s3.MotoS3]:
    s3.require()
    with s3.running_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server
