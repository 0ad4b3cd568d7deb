"""Referrers of a manifest: the OCI 1.1 referrers API, with the tag-schema fallback for registries without it.

A registry without the API (distribution 2.8.2) answers the route with a bare 404; then the referrers are
read from the index tagged ``<algorithm>-<encoded>`` (OCI distribution-spec, "Referrers Tag Schema").
An ``artifactType`` filter the registry did not apply (no ``OCI-Filters-Applied``) is applied here.
"""

from __future__ import annotations

import builtins

from registry_client.descriptors import Descriptor
from registry_client.errors import RegistryError
from registry_client.manifests import Manifests
from registry_client.pagination import pages
from registry_client.references import check_digest
from registry_client.session import Session, with_query
from registry_spec import urls

__all__ = ["Referrers", "fallback_tag"]


def fallback_tag(digest: str) -> str:
    """The tag-schema tag of a subject: ``sha256:abc…`` -> ``sha256-abc…``."""
    return check_digest(digest).replace(":", "-", 1)[:128]


class Referrers:
    def __init__(self, session: Session, manifests: Manifests) -> None:
        self.session = session
        self.manifests = manifests

    def list(self, name: str, digest: str, artifact_type: str | None = None) -> builtins.list[Descriptor]:
        first = urls.referrers(name, check_digest(digest))
        if artifact_type:
            first = with_query(first, artifactType=artifact_type)
        applied: set[str] = set()
        found: builtins.list[Descriptor] = []
        try:
            for page in pages(
                self.session,
                first,
                check=lambda r: applied.update(
                    f.strip() for f in r.headers.get("oci-filters-applied", "").split(",") if f.strip()
                ),
            ):
                found.extend(Descriptor.from_json(d) for d in page.get("manifests") or [])
        except RegistryError as exc:
            if exc.status != 404 or exc.errors:
                raise
            found = self._from_tag(name, digest)
        if artifact_type and "artifactType" not in applied:
            found = [d for d in found if d.artifact_type == artifact_type]
        return found

    def _from_tag(self, name: str, digest: str) -> builtins.list[Descriptor]:
        try:
            index = self.manifests.get(name, fallback_tag(digest))
        except RegistryError as exc:
            if exc.code in ("MANIFEST_UNKNOWN", "NAME_UNKNOWN") or exc.status == 404:
                return []
            raise
        return index.manifests
