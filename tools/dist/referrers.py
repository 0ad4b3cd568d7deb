"""Referrers travel with an image: signatures, SBOMs and attestations whose ``subject`` is a copied manifest.

Between two registries, ``copy`` follows the referrers of every manifest it copied (an index and each of its
children), then the referrers of those referrers, and copies each one by digest (its blobs, its children when it
is an index). The source is read through the referrers API or, where the registry has none, the tag-schema index
(``sha256-<hex>``). A destination without the API gets that index written, merged with what it already lists, so
tools reading either way find the artifacts.

cosign's own scheme (without its OCI 1.1 mode) keeps no ``subject``: a signature, attestation or SBOM is an image
tagged ``sha256-<hex>.sig``, ``.att`` or ``.sbom`` next to its subject. Those tags are copied too, under the same
names.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from registry_client.descriptors import Descriptor
from registry_client.referrers import fallback_tag

from .copy import Selection, copy_image
from .progress import Progress
from .stores import RegistryStore

__all__ = ["COSIGN_SUFFIXES", "ReferrersCopied", "copy_referrers"]

COSIGN_SUFFIXES = (".sig", ".att", ".sbom")


@dataclass
class ReferrersCopied:
    """What followed the image: referrer digests (in copy order) and the tag-schema indexes written."""

    digests: list[str] = field(default_factory=list)
    fallback_tags: int = 0
    bytes: int = 0


def _at_digest(store: RegistryStore, digest: str) -> RegistryStore:
    return RegistryStore(store.client, store.ref.with_tag(None).with_digest(digest))


def copy_referrers(
    source: RegistryStore,
    destination: RegistryStore,
    subjects: Iterable[str],
    *,
    jobs: int = 4,
    progress: Progress | None = None,
) -> ReferrersCopied:
    """Copy every referrer of ``subjects`` (manifest digests present at both ends), recursively."""
    progress = progress or Progress(quiet=True)
    done = ReferrersCopied()
    queue = deque(subjects)
    seen: set[str] = set(queue)
    api: bool | None = None
    while queue:
        subject = queue.popleft()
        _copy_cosign_tags(source, destination, subject, jobs, progress, done)
        found = source.client.referrers.list(source.ref.repository, subject)
        if not found:
            continue
        for descriptor in found:
            if descriptor.digest in seen:
                continue
            seen.add(descriptor.digest)
            result = copy_image(
                _at_digest(source, descriptor.digest),
                _at_digest(destination, descriptor.digest),
                Selection(all_platforms=True),
                jobs=jobs,
                progress=progress,
            )
            done.digests.append(descriptor.digest)
            done.bytes += result.bytes
            for digest in result.manifest_digests:  # the referrer, and its children when it is an index
                if digest == descriptor.digest or digest not in seen:
                    seen.add(digest)
                    queue.append(digest)
        if api is None:
            api = destination.client.referrers.api_supported(destination.ref.repository, subject)
        if not api:
            done.fallback_tags += _write_fallback(destination, subject, found)
    return done


def _copy_cosign_tags(
    source: RegistryStore,
    destination: RegistryStore,
    subject: str,
    jobs: int,
    progress: Progress,
    done: ReferrersCopied,
) -> None:
    for suffix in COSIGN_SUFFIXES:
        tag = fallback_tag(subject)[: 128 - len(suffix)] + suffix
        if not source.client.manifests.exists(source.ref.repository, tag):
            continue
        result = copy_image(
            RegistryStore(source.client, source.ref.with_tag(tag)),
            RegistryStore(destination.client, destination.ref.with_tag(tag)),
            Selection(all_platforms=True),
            jobs=jobs,
            progress=progress,
        )
        done.digests.append(result.digest)
        done.bytes += result.bytes


def _write_fallback(destination: RegistryStore, subject: str, found: list[Descriptor]) -> int:
    changed = destination.client.referrers.add_to_fallback(destination.ref.repository, subject, found)
    return 1 if changed else 0
