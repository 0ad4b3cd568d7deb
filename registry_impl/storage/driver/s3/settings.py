"""The ``storage.s3`` parameters, parsed and checked as distribution parses them, and the client they describe."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

__all__ = [
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "OBJECT_ACLS",
    "STORAGE_CLASSES",
    "S3Settings",
    "make_client",
]

MIB = 1 << 20
MIN_PART_SIZE = 5 * MIB  # S3 refuses smaller parts except the last one
MAX_PART_SIZE = 5 * 1024 * MIB  # the largest part, and the largest single-request copy
MAX_PARTS = 10_000
LIST_MAX = 1000  # the most keys one ListObjectsV2 page or one DeleteObjects request takes
NO_STORAGE_CLASS = "NONE"
STORAGE_CLASSES = (
    NO_STORAGE_CLASS, "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "OUTPOSTS", "GLACIER_IR", "EXPRESS_ONEZONE",
)  # fmt: skip
OBJECT_ACLS = (
    "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read", "bucket-owner-read",
    "bucket-owner-full-control",
)  # fmt: skip
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})  # Go's strconv.ParseBool
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_INT = re.compile(r"[+-]?\d+")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class S3Settings:
    """Everything the driver needs; the field names are distribution's config keys.

    The last four fields are not distribution's and are not read from configuration: they let tests and
    embedders shrink list pages and delete batches and tune botocore's retries (standard mode retries
    throttling, 5xx and connection errors with exponential backoff; adaptive mode also rate-limits).
    """

    bucket: str = ""
    region: str = ""
    regionendpoint: str = ""
    forcepathstyle: bool = False
    accesskey: str = ""
    secretkey: str = ""
    sessiontoken: str = ""
    encrypt: bool = False
    keyid: str = ""
    secure: bool = True
    skipverify: bool = False
    v4auth: bool = True
    chunksize: int = 2 * MIN_PART_SIZE
    multipartcopychunksize: int = 32 * MIB
    multipartcopymaxconcurrency: int = 100
    multipartcopythresholdsize: int = 32 * MIB
    rootdirectory: str = ""
    storageclass: str = "STANDARD"
    objectacl: str = "private"
    useragent: str = ""
    usedualstack: bool = False
    accelerate: bool = False
    usefipsendpoint: bool = False
    checksumdisabled: bool = False
    list_page_size: int = LIST_MAX
    delete_batch_size: int = LIST_MAX
    retry_mode: str = "standard"
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if not self.bucket:
            raise ValueError("bucket: no bucket parameter provided")
        if not self.regionendpoint:
            if not self.region:
                raise ValueError("region: no region parameter provided")
            if self.region not in _known_regions():
                raise ValueError(f"region: invalid region provided: {self.region}")
        if not self.v4auth and (not self.regionendpoint or "s3.amazonaws.com" in self.regionendpoint):
            raise ValueError(
                "v4auth: on Amazon S3 this storage driver can only be used with v4 authentication"
            )
        _check_range("chunksize", self.chunksize, MIN_PART_SIZE, MAX_PART_SIZE)
        _check_range("multipartcopychunksize", self.multipartcopychunksize, MIN_PART_SIZE, MAX_PART_SIZE)
        _check_range("multipartcopymaxconcurrency", self.multipartcopymaxconcurrency, 1, 2**63 - 1)
        _check_range("multipartcopythresholdsize", self.multipartcopythresholdsize, 0, MAX_PART_SIZE)
        _check_range("list_page_size", self.list_page_size, 1, LIST_MAX)
        _check_range("delete_batch_size", self.delete_batch_size, 1, LIST_MAX)
        if self.storageclass not in STORAGE_CLASSES:
            raise ValueError(
                f"storageclass: must be one of {list(STORAGE_CLASSES)}, {self.storageclass} invalid"
            )
        if self.objectacl not in OBJECT_ACLS:
            raise ValueError(f"objectacl: invalid value for objectacl parameter: {self.objectacl}")
        if self.retry_mode not in ("standard", "adaptive", "legacy"):
            raise ValueError(f"retry_mode: {self.retry_mode!r} is not standard, adaptive or legacy")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> S3Settings:
        """Parse distribution's keys as it does: booleans and integers may be strings (``REGISTRY_*`` values).

        Keys distribution knows but this driver does not use (``loglevel``, ``checksumalgorithm``,
        ``multipartcombinesmallpart``: small parts are always combined) are not read here: the configuration
        loader warns when one is set to what this driver does not do (``config.support``), and about
        unknown keys.
        """
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name in _NOT_CONFIG or params.get(spec.name) is None:
                continue
            raw = params[spec.name]
            if spec.type == "bool":
                values[spec.name] = _bool(spec.name, raw)
            elif spec.type == "int":
                values[spec.name] = _int(spec.name, raw)
            else:
                values[spec.name] = str(raw)
        if "storageclass" in values:
            values["storageclass"] = values["storageclass"].upper()  # all valid classes are upper case
        return cls(**values)

    def object_options(self) -> dict[str, str]:
        """Arguments of every request that creates an object: content type, ACL, encryption, storage class."""
        options = {"ContentType": "application/octet-stream", "ACL": self.objectacl}
        if self.encrypt:
            options["ServerSideEncryption"] = "aws:kms" if self.keyid else "AES256"
            if self.keyid:
                options["SSEKMSKeyId"] = self.keyid
        if self.storageclass != NO_STORAGE_CLASS:
            options["StorageClass"] = self.storageclass
        return options

    def endpoint_url(self) -> str | None:
        """``regionendpoint`` with a scheme (``secure`` picks it when the value has none), or None for AWS."""
        if not self.regionendpoint:
            return None
        if _SCHEME.match(self.regionendpoint):
            return self.regionendpoint
        return f"{'https' if self.secure else 'http'}://{self.regionendpoint}"


_NOT_CONFIG = frozenset({"list_page_size", "delete_batch_size", "retry_mode", "max_attempts"})


_SESSION_LOCK = threading.Lock()


def make_client(settings: S3Settings) -> Any:
    """A thread-safe boto3 S3 client for ``settings``.

    Clients come from one shared boto3 session, under a lock (sessions are not thread-safe; clients are):
    a session loads botocore's service models once, which makes every later client ten times cheaper.
    """
    from botocore.config import Config

    checksums = "when_required" if settings.checksumdisabled else "when_supported"
    config = Config(
        region_name=settings.region or "us-east-1",
        signature_version="s3v4" if settings.v4auth else "s3",
        s3={
            "addressing_style": "path" if settings.forcepathstyle else "auto",
            "use_accelerate_endpoint": settings.accelerate,
        },
        retries={"mode": settings.retry_mode, "max_attempts": settings.max_attempts},  # type: ignore[typeddict-item]
        max_pool_connections=max(10, min(settings.multipartcopymaxconcurrency, 64)),
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra=settings.useragent or None,
        use_dualstack_endpoint=settings.usedualstack or None,
        use_fips_endpoint=settings.usefipsendpoint or None,
        request_checksum_calculation=checksums,
        response_checksum_validation=checksums,
    )
    credentials: dict[str, str] = {}
    if settings.accesskey and settings.secretkey:
        credentials = {"aws_access_key_id": settings.accesskey, "aws_secret_access_key": settings.secretkey}
        if settings.sessiontoken:
            credentials["aws_session_token"] = settings.sessiontoken
    with _SESSION_LOCK:
        return _session().client(
            "s3",
            endpoint_url=settings.endpoint_url(),
            use_ssl=settings.secure,
            verify=False if settings.skipverify else None,
            config=config,
            **credentials,
        )


@cache
def _session() -> Any:
    import boto3

    return boto3.session.Session()


@cache
def _known_regions() -> frozenset[str]:
    from botocore.session import get_session

    session = get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("s3", partition_name=partition))
    return frozenset(regions)


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError(f"{name}: the {name} parameter should be a boolean, {value!r} invalid")


def _int(name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError(f"{name}: the {name} parameter must be an integer, {value!r} invalid")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name}: the {name} {value} parameter should be a number between {low} and {high}")
