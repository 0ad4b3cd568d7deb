"""A client of the registry HTTP API (Docker Registry V2 / OCI distribution 1.1) on httpx.

Imports only ``registry_spec``, httpx and the standard library. Start with :class:`RegistryClient`::

    from registry_client import RegistryClient

    with RegistryClient.for_host("127.0.0.1:5000") as registry:
        manifest = registry.manifests.get("library/alpine", "3.20")
        for layer in manifest.layers:
            data = registry.blobs.get("library/alpine", layer.digest)
"""

from __future__ import annotations

from registry_client import errors
from registry_client.auth import RegistryAuth
from registry_client.blobs import Blobs, Opener, UploadSession, bytes_opener, file_opener
from registry_client.credentials import Credential, DockerConfig
from registry_client.descriptors import Descriptor, Manifest, Platform
from registry_client.errors import (
    AuthenticationFailed,
    ClientError,
    ConnectionFailed,
    DigestMismatch,
    ReferenceInvalid,
    RegistryError,
)
from registry_client.manifests import ACCEPT, Manifests
from registry_client.references import ImageReference, parse_reference
from registry_client.registry import RegistryClient
from registry_client.transport import RetryPolicy, RetryTransport

__all__ = [
    "ACCEPT",
    "AuthenticationFailed",
    "Blobs",
    "ClientError",
    "ConnectionFailed",
    "Credential",
    "Descriptor",
    "DigestMismatch",
    "DockerConfig",
    "ImageReference",
    "Manifest",
    "Manifests",
    "Opener",
    "Platform",
    "ReferenceInvalid",
    "RegistryAuth",
    "RegistryClient",
    "RegistryError",
    "RetryPolicy",
    "RetryTransport",
    "UploadSession",
    "bytes_opener",
    "errors",
    "file_opener",
    "parse_reference",
]
