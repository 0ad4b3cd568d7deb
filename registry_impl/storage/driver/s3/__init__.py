"""The S3 storage driver (``storage.s3``), on boto3: distribution's parameters, layout and semantics.

Modules: :mod:`.settings` (the configuration keys and the client), :mod:`.bucket` (the S3 requests),
:mod:`.multipart` (server-side copies in parts), :mod:`.writer` (multipart writes), :mod:`.driver`.
"""

from __future__ import annotations

from .driver import S3Driver
from .settings import S3Settings

__all__ = ["S3Driver", "S3Settings"]
