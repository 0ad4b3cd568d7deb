"""A pull-through cache: repositories under a configured prefix are mirrored from an upstream registry.

``proxy.remoteurl`` (distribution's section) mirrors every repository from one upstream; ``proxy.upstreams``
(this project's extension) adds upstreams chosen by repository prefix, each with its own credentials and
ttl, and leaves every other repository local and writable. The services call in at one place per read
(a manifest or blob miss under a proxied prefix comes here) and refuse writes there (``UNSUPPORTED``).

- ``cache``: the services' entry points, and the upstream a repository falls under (by prefix);
- ``upstream``: one configured upstream and the calls to it through
  ``registry_client`` (Basic and Bearer challenges, retries), their failures turned into registry errors;
- ``manifests``: a manifest miss fetched and stored; tags revalidated with a HEAD once their ttl is over;
  through an outage, the last known value is served (a warning in the log, a counter in ``STATS``);
- ``blobs``: one upstream stream per blob (single flight, a storage claim across workers), written into
  an upload session while the first client receives it, verified and linked only when complete;
- ``freshness``: when each proxied tag was last checked against its upstream.
"""

from __future__ import annotations

from registry_impl.proxy.cache import PullThroughCache
from registry_impl.proxy.upstream import STATS, Upstream, UpstreamUnavailable

__all__ = ["STATS", "PullThroughCache", "Upstream", "UpstreamUnavailable"]
