"""registry_impl.storage.tags: which tag writes are owed a sync."""

from __future__ import annotations

from registry_impl.storage import paths
from registry_impl.storage.driver.inmemory import InMemoryDriver
from registry_impl.storage.tags import TagStore

DIGEST = "sha256:" + "a" * 64


class Recording(InMemoryDriver):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, bool]] = []

    def put_content(self, path: str, content: bytes, *, durable: bool = True) -> None:
        self.writes.append((path, durable))
        super().put_content(path, content, durable=durable)


def test_a_tag_move_is_durable_and_its_history_entry_is_not() -> None:
    """The current link is what a tag resolves by (durable before the PUT is acknowledged); the index
    entry only records the tag's history (a crash may lose it: written without syncs)."""
    driver = Recording()
    tags = TagStore(driver, "app")
    tags.tag("v1", DIGEST)
    assert driver.writes == [
        (paths.tag_current_link_path("app", "v1"), True),
        (paths.tag_index_link_path("app", "v1", DIGEST), False),
    ]
    assert tags.resolve("v1") == DIGEST
