"""Domain exceptions raised by registry code; they know nothing of HTTP.

The API layer maps each class to an error code of the descriptor in one table
(``registry_impl.api.errors``). The tree::

    RegistryError
    ├── NameInvalid            repository name does not match the grammar
    ├── NameUnknown            repository not known to the registry
    ├── TagInvalid             tag does not match the grammar
    ├── DigestInvalid          malformed digest, or content does not match it
    ├── SizeInvalid            content length does not match what was declared
    ├── RangeInvalid           a chunk out of order or a malformed range
    ├── BlobUnknown            blob not linked in the repository
    ├── BlobUploadUnknown      no such upload session
    ├── BlobUploadInvalid      the upload session cannot continue
    ├── ManifestUnknown        no manifest for this tag or digest
    ├── ManifestInvalid        manifest malformed or breaking a rule
    ├── ManifestBlobUnknown    manifest references blobs or manifests not in the repository
    ├── ManifestUnverified     manifest failed signature verification
    ├── PaginationNumberInvalid  bad ``n``
    ├── Unsupported            operation disabled (deletes off, read-only)
    ├── Unauthorized           authentication required
    ├── Denied                 access denied
    ├── TooManyRequests        rate limited
    └── Unavailable            backend temporarily unavailable
"""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    """Base of every domain error; ``detail`` is JSON-serialisable context for clients."""

    def __init__(self, message: str = "", detail: Any = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message
        self.detail = detail


class NameInvalid(RegistryError):
    pass


class NameUnknown(RegistryError):
    pass


class TagInvalid(RegistryError):
    pass


class DigestInvalid(RegistryError):
    pass


class SizeInvalid(RegistryError):
    pass


class RangeInvalid(RegistryError):
    pass


class BlobUnknown(RegistryError):
    pass


class BlobUploadUnknown(RegistryError):
    pass


class BlobUploadInvalid(RegistryError):
    pass


class ManifestUnknown(RegistryError):
    pass


class ManifestInvalid(RegistryError):
    pass


class ManifestBlobUnknown(RegistryError):
    pass


class ManifestUnverified(RegistryError):
    pass


class PaginationNumberInvalid(RegistryError):
    pass


class Unsupported(RegistryError):
    pass


class Unauthorized(RegistryError):
    pass


class Denied(RegistryError):
    pass


class TooManyRequests(RegistryError):
    pass


class Unavailable(RegistryError):
    pass
