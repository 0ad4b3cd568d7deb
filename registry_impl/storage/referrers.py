"""The referrers index of one repository: which manifests name a digest as their ``subject``.

Kept as links under ``repositories/<name>/_referrers/<alg>/<subject-hex>/<alg>/<hex>/link``, a
directory distribution does not know and ignores, so the layout stays readable by it.
"""

from __future__ import annotations

import contextlib

from registry_impl.storage import paths
from registry_impl.storage.driver.base import PathNotFoundError, StorageDriver


class ReferrerStore:
    def __init__(self, driver: StorageDriver, name: str) -> None:
        self.driver = driver
        self.name = name

    def add(self, subject: str, referrer: str) -> None:
        self.driver.put_content(paths.referrer_link_path(self.name, subject, referrer), referrer.encode())

    def remove(self, subject: str, referrer: str) -> None:
        path = paths.referrer_link_path(self.name, subject, referrer).rsplit("/", 1)[0]
        with contextlib.suppress(PathNotFoundError):
            self.driver.delete(path)

    def list(self, subject: str) -> list[str]:
        """Digests of the manifests whose subject is ``subject``, sorted."""
        try:
            entries = list(self.driver.walk(paths.referrers_root(self.name, subject)))
        except PathNotFoundError:
            return []
        out = []
        for info in entries:
            if not info.is_dir and info.path.endswith("/link"):
                try:
                    out.append(self.driver.get_content(info.path).decode())
                except PathNotFoundError:
                    continue
        return sorted(out)
