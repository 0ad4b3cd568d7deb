"""Name lists: a repository's tags and the registry's catalog."""

from __future__ import annotations

from dataclasses import dataclass

from registry_impl.services.state import State
from registry_impl.storage.registry import Registry

__all__ = ["Page", "list_repositories", "list_tags"]


@dataclass(frozen=True)
class Page:
    """One page of names; ``next_last`` is the last one shown when more follow."""

    items: list[str]
    next_last: str | None


def _tags(registry: Registry, name: str) -> list[str]:
    repo = registry.repository(name)
    repo.require()
    return repo.tags.all()


def _repositories(registry: Registry, size: int, last: str | None) -> Page:
    names = registry.repositories(limit=size + 1, after=last) if size else []
    page = names[:size]
    return Page(page, page[-1] if len(names) > size else None)


async def list_tags(state: State, name: str) -> list[str]:
    """Every tag of repository ``name``, sorted (``NameUnknown`` when there is no such repository); the
    handler pages them, as distribution does. A proxied repository lists its upstream's tags."""

    async def local() -> list[str]:
        return await state.offload.storage(_tags, state.registry, name)

    proxied = None if state.proxy is None else await state.proxy.list_tags(state, name, local)
    return proxied if proxied is not None else await local()


async def list_repositories(state: State, n: int | None, last: str | None) -> Page:
    """At most ``n`` (default: ``max_catalog``) repository names after ``last``, in distribution's walk order;
    the walk stops once it has them."""
    size = state.max_catalog if n is None else n
    return await state.offload.storage(_repositories, state.registry, size, last)
