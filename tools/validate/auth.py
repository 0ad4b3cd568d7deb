"""Registry authentication for a validation run: the client's ``RegistryAuth``, bound to the registry under test.

Basic and Docker's Bearer token flow are answered by :class:`registry_client.auth.RegistryAuth`, the same code
``dist`` uses, so the validator follows the client's rule: the given credentials go to the registry under test and
to the token realm named by a challenge *that registry* sent (an auth server on another host is normal). A 401
from the host a redirect ended at (a blob store, a CDN) is answered for that host, which has no credentials here:
its realm, even one on the registry's own token service, is asked anonymously, and neither the credentials nor the
registry's tokens reach it. A token service that refuses leaves its answer for the check to judge, rather than
raising as the client does.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx
from registry_client.auth import RegistryAuth as ClientAuth
from registry_client.credentials import Credential
from registry_client.errors import AuthenticationFailed
from registry_spec.router import ROUTER


def repository_of(path: str) -> str:
    """The repository a request path addresses ("" for /v2/ and the catalog)."""
    matched = ROUTER.match(path)  # the descriptor's route table, as the server routes
    return matched[1].get("name", "") if matched is not None else ""


class RegistryAuth(ClientAuth):
    """Answers Basic and Bearer challenges with ``username``/``password`` for ``host`` (``host[:port]`` of the
    registry under test; by default the host of the first request) and for no other host."""

    def __init__(
        self, username: str | None = None, password: str | None = None, *, host: str | None = None
    ) -> None:
        credential = Credential(username, password or "") if username is not None else None
        super().__init__(credential, host=host)
        self.username = username

    @property
    def has_credentials(self) -> bool:
        return self.username is not None

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        try:
            yield from super().sync_auth_flow(request)
        except AuthenticationFailed:
            return  # httpx hands back the last answer: the token service's refusal, or the challenge without realm
