"""Manifests: get (with Accept and digest verification), resolve (HEAD), put, delete."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence

from registry_client.bodies import ACCEPT_ENCODING, READ_RAW, read_limited
from registry_client.descriptors import Descriptor, Manifest
from registry_client.errors import DigestMismatch
from registry_client.references import check_digest
from registry_client.session import Session
from registry_spec import mediatypes as mt
from registry_spec import urls

__all__ = ["ACCEPT", "MAX_MANIFEST_SIZE", "Manifests", "oci_tags"]

#: Every manifest type this client understands, most specific first (the reference registry answers
#: 404 for an OCI manifest unless Accept lists it).
ACCEPT = (mt.OCI_INDEX, mt.OCI_MANIFEST, mt.DOCKER_MANIFEST_LIST, mt.DOCKER_MANIFEST)
MAX_MANIFEST_SIZE = 4 << 20


def oci_tags(values: Iterable[str]) -> Iterator[str]:
    """The tags named by ``OCI-Tag`` response headers (one header per tag, or comma-separated)."""
    for value in values:
        yield from (tag.strip() for tag in value.split(",") if tag.strip())


def _is_digest(reference: str) -> bool:
    return ":" in reference


class Manifests:
    """The manifest API of one registry."""

    def __init__(self, session: Session, accept: tuple[str, ...] = ACCEPT) -> None:
        self.session = session
        self.accept = accept

    def _accept(self, accept: tuple[str, ...] | None) -> dict[str, str]:
        return {"Accept": ", ".join(accept or self.accept)}

    def get(self, name: str, reference: str, accept: tuple[str, ...] | None = None) -> Manifest:
        """The manifest's exact bytes; a digest reference is verified against them.

        At most ``MAX_MANIFEST_SIZE`` bytes are read, as received and once decoded (:mod:`.bodies`)."""
        headers = self._accept(accept) | {"Accept-Encoding": ACCEPT_ENCODING}
        with self.session.stream(
            "GET",
            urls.manifest(name, reference),
            not_found="MANIFEST_UNKNOWN",
            headers=headers,
            extensions=READ_RAW,
        ) as response:
            content = read_limited(response, MAX_MANIFEST_SIZE, f"manifest {name}:{reference}")
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            served = response.headers.get("docker-content-digest")
        expected = check_digest(reference) if _is_digest(reference) else served
        algorithm = (expected or "sha256").partition(":")[0]
        actual = f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"
        if expected and expected != actual:
            raise DigestMismatch(expected, actual, f"manifest {name}@{reference}")
        if media_type in ("", mt.JSON, "text/plain"):
            media_type = ""  # guessed from the document's own mediaType
        return Manifest(content, media_type, actual)

    def resolve(self, name: str, reference: str, accept: tuple[str, ...] | None = None) -> Descriptor:
        """The descriptor a tag or digest points at (HEAD; GET when the registry sends no digest)."""
        r = self.session.request(
            "HEAD", urls.manifest(name, reference), not_found="MANIFEST_UNKNOWN", headers=self._accept(accept)
        )
        digest = r.headers.get("docker-content-digest")
        length = r.headers.get("content-length", "")
        media_type = r.headers.get("content-type", "").split(";")[0].strip()
        if not digest or not length.isdigit() or media_type in ("", mt.JSON):
            return self.get(name, reference, accept).descriptor
        return Descriptor(media_type, digest, int(length))

    def exists(self, name: str, reference: str) -> bool:
        r = self.session.request(
            "HEAD", urls.manifest(name, reference), expect=(200, 404), headers=self._accept(None)
        )
        return r.status_code == 200

    def put(self, name: str, reference: str, manifest: Manifest, tags: Sequence[str] = ()) -> str:
        """Store ``manifest`` under a tag or its digest; returns the digest the registry computed.

        ``tags`` (with a digest ``reference``) go as ``?tag=`` parameters, which a registry of the OCI
        distribution-spec 1.2 applies atomically and confirms in ``OCI-Tag`` headers; each tag the registry did not
        confirm (one that ignores the parameter) is then pushed by its own PUT, so the result is the same either way.
        """
        if tags and not _is_digest(reference):
            raise ValueError("tag parameters go with a PUT by digest")
        served, confirmed = self._put(name, reference, manifest, tags)
        for tag in tags:
            if tag not in confirmed:
                self._put(name, tag, manifest, ())
        return served

    def _put(
        self, name: str, reference: str, manifest: Manifest, tags: Sequence[str]
    ) -> tuple[str, set[str]]:
        r = self.session.request(
            "PUT",
            urls.manifest(name, reference, tags),
            content=manifest.content,
            headers={"Content-Type": manifest.media_type},
            expect=(201,),
        )
        served = r.headers.get("docker-content-digest") or manifest.digest
        if served != manifest.digest:
            raise DigestMismatch(manifest.digest, served, "pushed manifest")
        return served, set(oci_tags(r.headers.get_list("oci-tag")))

    def delete(self, name: str, reference: str) -> None:
        """Delete by digest (every tag pointing at it goes too), or a tag where the registry allows it."""
        self.session.request(
            "DELETE", urls.manifest(name, reference), expect=(202,), not_found="MANIFEST_UNKNOWN"
        )
