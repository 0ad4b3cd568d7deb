"""Tags of a repository, page by page (``n``/``last``, following Link)."""

from __future__ import annotations

from collections.abc import Iterator

from registry_client.pagination import pages
from registry_client.session import Session
from registry_spec import urls

__all__ = ["Tags"]


class Tags:
    def __init__(self, session: Session) -> None:
        self.session = session

    def iter(self, name: str, page_size: int | None = None, last: str | None = None) -> Iterator[str]:
        """Every tag from after ``last`` on, in the registry's order, asking ``page_size`` at a time."""
        for page in pages(self.session, urls.tags(name, page_size, last), not_found="NAME_UNKNOWN"):
            yield from page.get("tags") or []

    def list(self, name: str, page_size: int | None = None) -> list[str]:
        return list(self.iter(name, page_size))
