"""Authentication as an ``httpx.Auth``: anonymous, Basic, and Docker's Bearer token flow with scopes.

A request first goes out with what is already known for its host and scope (a cached, unexpired token, or Basic
credentials once the host asked for them). On ``401`` the ``WWW-Authenticate`` challenge decides:

* ``Basic``: resend with the credentials, and send them up front to that host from then on;
* ``Bearer realm=…,service=…,scope=…``: get a token from the realm for the challenge's scopes plus the ones
  this request needs (a mount also needs ``pull`` on the ``from`` repository), cache it by host and scope until
  ``expires_in`` runs out, resend. Credentials go to the realm as Basic (GET), an identity token as an OAuth2
  refresh-token grant (POST); without credentials the token is anonymous. A 401 despite a cached token
  (expired early, revoked, ``insufficient_scope``) fetches a fresh one, once per request.

Credentials and tokens belong to the host that issued the challenge. A request redirected to another host (a blob
store, a CDN) that answers ``401`` there gets that host's own credentials (none, for a fixed :class:`Credential`,
which is bound to one registry) and is retried at that host: one registry's credentials or tokens never go to
another.

The token request is yielded from the flow, so it travels through the client's own transport and retries. A
request whose streamed body was already sent cannot be repeated; callers upload after a small request to the
same repository (the POST that opens the session), which leaves the token cached.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from urllib.parse import unquote

import httpx
from registry_client.credentials import Credential
from registry_client.errors import AuthenticationFailed
from registry_spec.protocol.challenges import Challenge, parse_challenges
from registry_spec.router import ROUTER

__all__ = ["RegistryAuth", "scopes_for"]

CLIENT_ID = "pydistribution-dist"
DEFAULT_EXPIRES = 60
EXPIRY_MARGIN = 10.0

CredentialSource = Callable[[str], Credential | None]


def scopes_for(request: httpx.Request) -> tuple[str, ...]:
    """The token scopes a request needs, as distribution's access controller computes them."""
    path = unquote(request.url.path)
    if path.rstrip("/") == "/v2/_catalog":
        return ("registry:catalog:*",)
    matched = ROUTER.match(path)  # the server's own route table: the name is what it will route
    name = matched[1].get("name", "") if matched is not None else ""
    if not name:
        return ()
    if request.method in ("GET", "HEAD"):
        scopes = [f"repository:{name}:pull"]
    elif request.method == "DELETE":
        scopes = [f"repository:{name}:delete"]
    else:
        scopes = [f"repository:{name}:pull,push"]
    source = request.url.params.get("from")
    if request.url.params.get("mount") and source:
        scopes.append(f"repository:{source}:pull")
    return tuple(scopes)


@dataclass
class _Token:
    value: str
    expires_at: float
    scopes: frozenset[str]


class RegistryAuth(httpx.Auth):
    """Anonymous, Basic or Bearer authentication for every host one client talks to (thread-safe).

    A fixed ``credentials`` is for ``host`` alone (``host[:port]``; by default the host of the first request);
    a function of the host answers for every host.
    """

    def __init__(
        self,
        credentials: Credential | CredentialSource | None = None,
        *,
        host: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._owner = host
        if isinstance(credentials, Credential):
            fixed = credentials
            self._credentials: CredentialSource = lambda asked: fixed if asked == self._owner else None
        else:
            self._credentials = credentials or (lambda asked: None)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, list[_Token]] = {}
        self._basic_hosts: set[str] = set()
        self._known: dict[str, Credential | None] = {}

    def credential(self, host: str) -> Credential | None:
        with self._lock:
            self._owner = self._owner or host
            if host not in self._known:
                self._known[host] = self._credentials(host)
            return self._known[host]

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = request.url.netloc.decode()
        needed = scopes_for(request)
        sent_token = self._apply(request, host, needed)
        answered: set[str] = set()
        while True:
            response = yield request
            challenger = response.url.netloc.decode()
            if response.status_code != 401 or challenger in answered:
                return  # done, or that host refused what it was just given
            answered.add(challenger)
            if challenger != host:  # a redirect ended at another host: answer for it, retry there
                request, host, sent_token = _redirected(request, response.url), challenger, False
                needed = scopes_for(request)
            if not (yield from self._answer(request, response, host, needed, sent_token)):
                return

    def _answer(
        self,
        request: httpx.Request,
        response: httpx.Response,
        host: str,
        needed: tuple[str, ...],
        sent_token: bool,
    ) -> Generator[httpx.Request, httpx.Response, bool]:
        """Set ``request``'s Authorization to answer ``host``'s challenge; returns whether to resend it."""
        challenges = parse_challenges(response.headers.get_list("www-authenticate"))
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        credential = self.credential(host)
        if bearer is not None:
            scopes = tuple(dict.fromkeys(bearer.scopes + needed))
            token = yield from self._fetch(bearer, scopes, credential)
            self._remember(host, token)
            request.headers["Authorization"] = f"Bearer {token.value}"
            return True
        if any(c.scheme == "basic" for c in challenges) and credential and credential.username:
            if "Authorization" in request.headers and not sent_token:
                return False  # these credentials were already refused
            with self._lock:
                self._basic_hosts.add(host)
            request.headers["Authorization"] = _basic(credential)
            return True
        return False

    def _apply(self, request: httpx.Request, host: str, needed: tuple[str, ...]) -> bool:
        """Attach what is known up front; returns whether a bearer token was attached."""
        if "Authorization" in request.headers:
            return False
        credential = self.credential(host)
        if credential is not None and credential.registry_token:
            request.headers["Authorization"] = f"Bearer {credential.registry_token}"
            return True
        token = self._cached(host, needed)
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
            return True
        with self._lock:
            basic = host in self._basic_hosts
        if basic and credential is not None and credential.username:
            request.headers["Authorization"] = _basic(credential)
        return False

    def _cached(self, host: str, needed: tuple[str, ...]) -> str | None:
        now = self._clock()
        wanted = _expand(needed)
        with self._lock:
            live = [t for t in self._tokens.get(host, []) if t.expires_at > now]
            self._tokens[host] = live
            for token in reversed(live):
                if wanted <= token.scopes and (wanted or not needed):
                    return token.value
        return None

    def _remember(self, host: str, token: _Token) -> None:
        with self._lock:
            self._tokens.setdefault(host, []).append(token)

    def _fetch(
        self, challenge: Challenge, scopes: tuple[str, ...], credential: Credential | None
    ) -> Generator[httpx.Request, httpx.Response, _Token]:
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthenticationFailed("the registry's Bearer challenge has no realm")
        service = challenge.params.get("service")
        if credential is not None and credential.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": credential.identity_token}
            form.update({"client_id": CLIENT_ID, "scope": " ".join(scopes)})
            if service:
                form["service"] = service
            token_request = httpx.Request("POST", realm, data=form)
        else:
            params: list[tuple[str, str | int | float | bool | None]] = [("scope", s) for s in scopes]
            params += [("service", service)] if service else []
            params.append(("client_id", CLIENT_ID))
            headers = {"Authorization": _basic(credential)} if credential and credential.username else {}
            token_request = httpx.Request("GET", httpx.URL(realm).copy_merge_params(params), headers=headers)
        response = yield token_request
        response.read()
        if response.status_code in (401, 403):
            raise AuthenticationFailed(
                f"the token service at {realm} refused the credentials (HTTP {response.status_code})"
            )
        if response.status_code != 200:
            raise AuthenticationFailed(f"the token service at {realm} answered HTTP {response.status_code}")
        return self._parse_token(response, scopes)

    def _parse_token(self, response: httpx.Response, scopes: tuple[str, ...]) -> _Token:
        try:
            body = json.loads(response.content)
            value = body.get("token") or body.get("access_token")
            expires_in = int(body.get("expires_in") or DEFAULT_EXPIRES)
        except (ValueError, AttributeError, TypeError) as exc:
            raise AuthenticationFailed("the token service answered something that is not a token") from exc
        if not isinstance(value, str) or not value:
            raise AuthenticationFailed("the token service answered without a token")
        lifetime = max(expires_in - EXPIRY_MARGIN, expires_in / 2)
        return _Token(value, self._clock() + lifetime, _expand(scopes))


def _redirected(request: httpx.Request, url: httpx.URL) -> httpx.Request:
    """``request`` sent straight to ``url`` (where a redirect ended), without the first host's Authorization."""
    headers = httpx.Headers(request.headers)
    headers.pop("Authorization", None)
    headers["Host"] = url.netloc.decode("ascii")
    return httpx.Request(
        request.method, url, headers=headers, stream=request.stream, extensions=request.extensions
    )


def _expand(scopes: tuple[str, ...]) -> frozenset[str]:
    """``repository:a:pull,push`` -> {``repository:a:pull``, ``repository:a:push``}, to compare coverage."""
    out: set[str] = set()
    for scope in scopes:
        resource, _, actions = scope.rpartition(":")
        out.update(f"{resource}:{action}" for action in actions.split(",") if action)
    return frozenset(out)


def _basic(credential: Credential | None) -> str:
    assert credential is not None
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()
