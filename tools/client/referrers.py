"""Referrers of a manifest: the OCI 1.1 referrers API, with the tag-schema fallback for registries without it.

A registry without the API (distribution 2.8.2) answers the route with a bare 404; then the referrers are
read from the index tagged ``<algorithm>-<encoded>`` (OCI distribution-spec, "Referrers Tag Schema"), and a client
that pushes a manifest with a ``subject`` there keeps that index up to date (:meth:`Referrers.add_to_fallback`).
An ``artifactType`` filter the registry did not apply (no ``OCI-Filters-Applied``) is applied here.
"""

from __future__ import annotations

import builtins

from registry_client.descriptors import Descriptor, Manifest
from registry_client.errors import RegistryError
from registry_client.manifests import Manifests
from registry_client.pagination import pages
from registry_client.references import check_digest
from registry_client.session import Session, with_query
from registry_spec import mediatypes as mt
from registry_spec import urls

__all__ = ["Referrers", "fallback_tag", "referrer_descriptor"]


def fallback_tag(digest: str) -> str:
    """The tag-schema tag of a subject: ``sha256:abc…`` -> ``sha256-abc…``."""
    return check_digest(digest).replace(":", "-", 1)[:128]


def referrer_descriptor(manifest: Manifest) -> Descriptor:
    """How a referrers list names ``manifest``: its artifactType (else its config's media type) and annotations."""
    document = manifest.document
    config = manifest.config
    artifact_type = document.get("artifactType") or (config.media_type if config is not None else None)
    return Descriptor(
        manifest.media_type,
        manifest.digest,
        len(manifest.content),
        annotations=dict(document.get("annotations") or {}),
        artifact_type=artifact_type,
    )


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

    def api_supported(self, name: str, digest: str) -> bool:
        """Whether the registry answers the referrers API (a bare 404 means it has no such route)."""
        try:
            self.session.request("GET", urls.referrers(name, check_digest(digest)))
        except RegistryError as exc:
            if exc.status != 404 or exc.errors:
                raise
            return False
        return True

    def add_to_fallback(self, name: str, subject: str, added: builtins.list[Descriptor]) -> bool:
        """Merge ``added`` into the tag-schema index of ``subject`` (created when absent); returns whether the
        index changed. The registry keeps no lock: concurrent writers of one subject can lose an entry."""
        current = self._from_tag(name, subject)
        known = {d.digest for d in current}
        fresh = [d for d in added if d.digest not in known]
        if not fresh:
            return False
        document = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [d.to_json() for d in [*current, *fresh]],
        }
        self.manifests.put(name, fallback_tag(subject), Manifest.from_document(document, mt.OCI_INDEX))
        return True

    def _from_tag(self, name: str, digest: str) -> builtins.list[Descriptor]:
        try:
            index = self.manifests.get(name, fallback_tag(digest))
        except RegistryError as exc:
            if exc.code in ("MANIFEST_UNKNOWN", "NAME_UNKNOWN") or exc.status == 404:
                return []
            raise
        return index.manifests
