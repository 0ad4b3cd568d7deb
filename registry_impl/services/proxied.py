"""The services' one hook into the pull-through cache (``registry_impl.proxy``) for writes.

A repository under a proxied prefix is a copy of its upstream: every push, delete and upload there is
refused with UNSUPPORTED (405), as distribution refuses them on a proxy. Reads reach the cache through
``state.proxy`` in ``manifests.fetch`` and ``blobs.find``.
"""

from __future__ import annotations

from registry_impl.services.state import State

__all__ = ["refuse_proxied"]


def refuse_proxied(state: State, name: str) -> None:
    """UNSUPPORTED when repository ``name`` is a pull-through cache of an upstream."""
    if state.proxy is not None:
        state.proxy.refuse_writes(name)
