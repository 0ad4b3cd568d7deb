"""The blob descriptor cache: digest → (size, media type), registry-wide and per repository.

``base`` holds the interface, ``memory`` and ``redis`` the backends, ``conformance`` the suite they all
pass, ``factory`` the choice from ``storage.cache.blobdescriptor``.
"""

from __future__ import annotations

from registry_impl.storage.cache.base import (
    BlobDescriptorCacheProvider,
    BlobDescriptorService,
    Descriptor,
    NoCache,
)

__all__ = ["BlobDescriptorCacheProvider", "BlobDescriptorService", "Descriptor", "NoCache"]
