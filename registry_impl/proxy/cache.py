"""The pull-through cache as the services see it: which repositories are proxied, and the calls for them.

The services hold one :class:`PullThroughCache` (``state.proxy``, None when no upstream is configured) and
call it at one place per operation: a manifest read or a tag list of a proxied repository, a blob read that
missed, and every write (refused there). A proxied repository lists its upstream's tags (through an outage,
the tags stored here), as distribution's proxy does. It imports nothing of the services' callers, so ``registry_impl.services``
needs no import of this package.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from registry_impl.config.model import ProxyConfig
from registry_impl.errors import DigestInvalid, ManifestUnknown, NameUnknown, TagInvalid, Unsupported
from registry_impl.proxy import blobs, expiry, manifests
from registry_impl.proxy.upstream import Upstream, UpstreamUnavailable
from registry_impl.services.blobs import BlobFound
from registry_impl.services.state import State
from registry_impl.storage.manifests import StoredManifest

__all__ = ["PullThroughCache"]

log = logging.getLogger("registry.proxy")


class PullThroughCache:
    """Every configured upstream, longest prefix first."""

    def __init__(self, upstreams: list[Upstream]) -> None:
        self.upstreams = sorted(upstreams, key=lambda u: len(u.prefix), reverse=True)
        self.pulls = expiry.Pulls()

    @classmethod
    def from_config(cls, config: ProxyConfig) -> PullThroughCache | None:
        """None when no upstream is configured."""
        if not config.enabled:
            return None
        return cls([Upstream(u) for u in config.all_upstreams()])

    def upstream_for(self, name: str) -> Upstream | None:
        """The upstream repository ``name`` falls under (its prefix, then ``/``); None: a local repository."""
        for upstream in self.upstreams:
            if not upstream.prefix or name.startswith(upstream.prefix + "/"):
                return upstream
        return None

    def refuse_writes(self, name: str) -> None:
        """UNSUPPORTED for a push, delete or upload into a proxied repository."""
        upstream = self.upstream_for(name)
        if upstream is not None:
            raise Unsupported(
                f"repository {name} is a pull-through cache of {upstream.url}: it cannot be written",
                detail={"name": name, "upstream": upstream.url},
            )

    async def fetch_manifest(self, state: State, name: str, reference: str) -> StoredManifest | None:
        """The manifest of a proxied repository (stored, revalidated or fetched); None: not proxied."""
        upstream = self.upstream_for(name)
        if upstream is None:
            return None
        try:
            manifest = await manifests.fetch(state, upstream, name, reference)
        except (TagInvalid, DigestInvalid) as exc:
            raise ManifestUnknown(detail={"reference": reference}) from exc
        await self._pulled(state, upstream, name, "_manifests", manifest.digest)
        return manifest

    async def list_tags(
        self, state: State, name: str, local: Callable[[], Awaitable[list[str]]]
    ) -> list[str] | None:
        """The upstream's tags of a proxied repository (sorted); through an outage, the tags stored here
        (``local``); None: ``name`` is not proxied."""
        upstream = self.upstream_for(name)
        if upstream is None:
            return None
        try:
            return sorted(await state.offload.slow(upstream.tags, name))
        except UpstreamUnavailable as exc:
            try:
                tags = await local()
            except NameUnknown:
                raise exc from None
            log.warning("tags of %s listed from what is stored here: %s", name, exc.message)
            return tags

    async def find_blob(self, state: State, name: str, digest: str, method: str) -> BlobFound | None:
        """A blob this registry does not have, from the upstream; None: ``name`` is not proxied."""
        upstream = self.upstream_for(name)
        if upstream is None:
            return None
        found = await blobs.find(state, upstream, name, digest, method)
        fetching = isinstance(found, blobs.FetchingBlob)  # a fetch always records (expiry may have run since)
        await self._pulled(state, upstream, name, "_blobs", found.info.digest, force=fetching)
        return found

    async def pulled_blob(self, state: State, name: str, digest: str) -> None:
        """A stored blob was served: a proxied one does not expire for another ttl."""
        upstream = self.upstream_for(name)
        if upstream is not None:
            await self._pulled(state, upstream, name, "_blobs", digest)

    async def _pulled(
        self, state: State, upstream: Upstream, name: str, kind: str, digest: str, *, force: bool = False
    ) -> None:
        """Rewrite the expiry record of what was just served (see ``expiry``)."""
        due = self.pulls.due(expiry.record_path(name, kind, digest), upstream.ttl)
        if upstream.ttl and (due or force):
            await state.offload.storage(expiry.write_record, state.registry.driver, name, kind, digest)

    async def expire_forever(self, state: State) -> None:
        """Expire proxied content ``ttl`` after its last pull, for as long as the application runs."""
        await expiry.expire_forever(state, self.upstreams, self.upstream_for)

    def close(self) -> None:
        for upstream in self.upstreams:
            upstream.close()
