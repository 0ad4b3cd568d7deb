"""registry_toolkit.dist: the ``dist`` command line (copy images between registries, OCI layouts and docker
archives; inspect, list, delete, blobs, login) on top of :mod:`registry_client`."""

import sys

# httpx imports its own command line on import (rich, pygments, click: ~45 ms, a fifth of dist's start) unless that
# module is known to be absent; dist never uses it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
