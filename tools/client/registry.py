"""The facade: ``RegistryClient(base_url)`` with ``blobs``, ``manifests``, ``tags``, ``catalog`` and ``referrers``.

It assembles the layers: an httpx.Client whose transport retries (:mod:`.transport`) and hands httpx only bodies
decoded within a bound (:mod:`.bodies`), whose auth answers challenges (:mod:`.auth`) with credentials from a
source such as the Docker config (:mod:`.credentials`), and the per-noun APIs over one :class:`~.session.Session`.
Thread-safe: share one client between worker threads.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
from registry_client.auth import CredentialSource, RegistryAuth
from registry_client.blobs import Blobs
from registry_client.bodies import ACCEPT_ENCODING, BoundedBodies
from registry_client.catalog import Catalog
from registry_client.credentials import Credential, DockerConfig
from registry_client.manifests import Manifests
from registry_client.references import DOCKER_HUB, DOCKER_HUB_API, is_loopback
from registry_client.referrers import Referrers
from registry_client.session import Session
from registry_client.tags import Tags
from registry_client.transport import RetryPolicy, RetryTransport
from registry_spec import urls

__all__ = ["RegistryClient"]

USER_AGENT = "pydistribution-client/0.1"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=15.0)


class RegistryClient:
    """A client of one registry, e.g. ``RegistryClient("http://127.0.0.1:5000")``.

    ``credentials`` is a :class:`Credential` (sent to this registry's host only, never to a host a redirect or a
    Link leads to), a function of the host, or None (anonymous). ``transport``
    replaces the network (``httpx.MockTransport``, a bridge to an in-process app); retries wrap it either way.
    ``chunk_size`` splits uploads into PATCHes of that many bytes (one PATCH per blob when None); blobs up to
    ``monolithic_max`` bytes go in a single PUT.
    """

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credential | CredentialSource | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | ssl.SSLContext = True,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        chunk_size: int | None = None,
        monolithic_max: int = 16 << 20,
        max_connections: int = 32,
        user_agent: str = USER_AGENT,
    ) -> None:
        inner = transport or httpx.HTTPTransport(
            verify=verify,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )
        self.http = httpx.Client(
            transport=BoundedBodies(RetryTransport(inner, retry, sleep)),
            auth=RegistryAuth(credentials, host=httpx.URL(base_url).netloc.decode()),
            timeout=timeout,
            headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )
        self.session = Session(base_url, self.http)
        self.blobs = Blobs(self.session, chunk_size=chunk_size, monolithic_max=monolithic_max, sleep=sleep)
        self.manifests = Manifests(self.session)
        self.tags = Tags(self.session)
        self.catalog = Catalog(self.session)
        self.referrers = Referrers(self.session, self.manifests)

    @property
    def base_url(self) -> str:
        return self.session.base_url

    @classmethod
    def for_host(
        cls,
        host: str,
        *,
        insecure: bool = False,
        credentials: Credential | CredentialSource | DockerConfig | None = None,
        tls: ssl.SSLContext | None = None,
        **kwargs: Any,
    ) -> RegistryClient:
        """A client for ``host[:port]``: plain HTTP on loopback; with ``insecure``, HTTPS without verification
        and plain HTTP when the host does not speak TLS. ``tls`` (trusted CAs, a client certificate) means HTTPS
        verified with it, loopback included. ``credentials`` defaults to the Docker config file."""
        source = DockerConfig() if credentials is None else credentials
        found: Credential | CredentialSource | None = (
            source.get if isinstance(source, DockerConfig) else source
        )
        api_host = DOCKER_HUB_API if host == DOCKER_HUB else host
        if tls is not None and not insecure:
            return cls(f"https://{api_host}", credentials=found, verify=tls, **kwargs)
        if is_loopback(host):
            return cls(f"http://{api_host}", credentials=found, **kwargs)
        if not insecure:
            return cls(f"https://{api_host}", credentials=found, **kwargs)
        if "transport" not in kwargs and not _speaks_tls(api_host):
            return cls(f"http://{api_host}", credentials=found, **kwargs)
        return cls(f"https://{api_host}", credentials=found, verify=False, **kwargs)

    def ping(self) -> httpx.Headers:
        """``GET /v2/``: raises when the registry is unreachable or refuses the credentials."""
        return self.session.request("GET", urls.base()).headers

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _speaks_tls(host: str) -> bool:
    try:
        with httpx.Client(verify=False, timeout=10.0) as probe:
            probe.get(f"https://{host}/v2/")
    except httpx.ConnectError:
        return False
    except httpx.HTTPError:
        return True
    return True
