"""Domain exceptions raised by registry code: each class carries its error code; none knows HTTP.

Every error code, with its HTTP status, is declared once, in ``registry_spec.errors``. A class here
names the code it stands for (``class BlobUnknown(RegistryError, code=E.BLOB_UNKNOWN)``) and nothing
else: there is no second table, and the one envelope writer (``registry_impl.api.errors``) reads
``exc.code``. A subclass without ``code=`` keeps its parent's (``ClaimBusy`` is a ``TooManyRequests``).

Adding a code is one ``register(...)`` statement in ``registry_spec.errors``: it reaches the
descriptor, the docs, the client's exception classes and the validator from there. The server needs a
class only for a code it raises; that class is one line naming the code, named after it in CamelCase
(``tests/spec/test_errors.py`` checks the names and that every code here is registered).

Two declared attributes replace the side channels an exception once used to steer its answer:

- ``answer``: a descriptor response (``registry_spec.params``) for the rare error that the descriptor
  lists under another status than its code's. The one case: a manifest over the size bound is
  MANIFEST_INVALID, as in distribution, and the descriptor answers it 413 (``P.MANIFEST_TOO_LARGE``);
  neither distribution nor the OCI spec has a code of its own for it, so none is registered.
- ``headers``: the response headers the descriptor lists for that answer (``WWW-Authenticate`` on 401,
  ``Retry-After`` on 429, ``Content-Range`` or ``Location``/``Range`` on 416). Empty by default.

The tree::

    RegistryError              UNKNOWN; base of every domain error; ``detail`` is JSON for clients
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
    ├── TooManyRequests        rate limited, or a claim held too long by another request
    └── Unavailable            backend temporarily unavailable
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from registry_spec import errors as E
from registry_spec.model import ErrorCode, Response

__all__ = [
    "BlobUnknown",
    "BlobUploadInvalid",
    "BlobUploadUnknown",
    "Denied",
    "DigestInvalid",
    "ManifestBlobUnknown",
    "ManifestInvalid",
    "ManifestUnknown",
    "ManifestUnverified",
    "NameInvalid",
    "NameUnknown",
    "PaginationNumberInvalid",
    "RangeInvalid",
    "RegistryError",
    "SizeInvalid",
    "TagInvalid",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "Unsupported",
]

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class RegistryError(Exception):
    """Base of every domain error; ``detail`` is JSON-serialisable context for clients."""

    #: The error code this exception stands for (set with ``class X(RegistryError, code=E.X)``).
    code: ClassVar[ErrorCode] = E.UNKNOWN
    #: The descriptor response when it is not the code's own status (see the module docstring).
    answer: ClassVar[Response | None] = None
    #: Response headers the descriptor lists for this answer.
    headers: Mapping[str, str] = _NO_HEADERS

    def __init_subclass__(cls, code: ErrorCode | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            if E.REGISTRY.get(code.value) is not code:
                raise TypeError(f"{cls.__name__}: error code {code.value} is not registered in registry_spec.errors")
            cls.code = code
        if cls.answer is not None and cls.code not in cls.answer.error_codes:
            raise TypeError(f"{cls.__name__}: its answer does not list {cls.code.value}")

    def __init__(self, message: str = "", detail: Any = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message
        self.detail = detail


class NameInvalid(RegistryError, code=E.NAME_INVALID):
    pass


class NameUnknown(RegistryError, code=E.NAME_UNKNOWN):
    pass


class TagInvalid(RegistryError, code=E.TAG_INVALID):
    pass


class DigestInvalid(RegistryError, code=E.DIGEST_INVALID):
    pass


class SizeInvalid(RegistryError, code=E.SIZE_INVALID):
    pass


class RangeInvalid(RegistryError, code=E.RANGE_INVALID):
    pass


class BlobUnknown(RegistryError, code=E.BLOB_UNKNOWN):
    pass


class BlobUploadUnknown(RegistryError, code=E.BLOB_UPLOAD_UNKNOWN):
    pass


class BlobUploadInvalid(RegistryError, code=E.BLOB_UPLOAD_INVALID):
    pass


class ManifestUnknown(RegistryError, code=E.MANIFEST_UNKNOWN):
    pass


class ManifestInvalid(RegistryError, code=E.MANIFEST_INVALID):
    pass


class ManifestBlobUnknown(RegistryError, code=E.MANIFEST_BLOB_UNKNOWN):
    pass


class ManifestUnverified(RegistryError, code=E.MANIFEST_UNVERIFIED):
    pass


class PaginationNumberInvalid(RegistryError, code=E.PAGINATION_NUMBER_INVALID):
    pass


class Unsupported(RegistryError, code=E.UNSUPPORTED):
    pass


class Unauthorized(RegistryError, code=E.UNAUTHORIZED):
    pass


class Denied(RegistryError, code=E.DENIED):
    pass


class TooManyRequests(RegistryError, code=E.TOOMANYREQUESTS):
    pass


class Unavailable(RegistryError, code=E.UNAVAILABLE):
    pass
