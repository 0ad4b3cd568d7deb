"""The registry's repository catalog, page by page (``n``/``last``, following Link)."""

from __future__ import annotations

from collections.abc import Iterator

from registry_client.pagination import pages
from registry_client.session import Session
from registry_spec import urls

__all__ = ["Catalog"]


class Catalog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def iter(self, page_size: int | None = None, last: str | None = None) -> Iterator[str]:
        for page in pages(self.session, urls.catalog(page_size, last)):
            yield from page.get("repositories") or []

    def list(self, page_size: int | None = None) -> list[str]:
        return list(self.iter(page_size))
