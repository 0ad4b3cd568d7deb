"""Registry authentication as an ``httpx.Auth``: Basic, and the Bearer token flow of the WWW-Authenticate challenge.

A request goes out with the credentials that worked last for its repository; a 401 answer's challenge is
followed: ``Basic`` resends with the username and password, ``Bearer realm=…,service=…,scope=…`` asks the
token realm (with the username and password as Basic credentials, when given) and resends with the token.
The challenge is parsed by the protocol core (:mod:`registry_spec.protocol.challenges`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Generator

import httpx
from registry_spec.protocol.challenges import Challenge, parse_challenge
from registry_spec.router import ROUTER


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def repository_of(path: str) -> str:
    """The repository a request path addresses ("" for /v2/ and the catalog)."""
    matched = ROUTER.match(path)  # the descriptor's route table, as the server routes
    return matched[1].get("name", "") if matched is not None else ""


class RegistryAuth(httpx.Auth):
    """Answers Basic and Bearer challenges; remembers what worked, per repository."""

    requires_response_body = True

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self.username = username
        self.password = password
        self.tokens: dict[str, str] = {}
        self.basic = False
        self.token_requests = 0

    @property
    def has_credentials(self) -> bool:
        return self.username is not None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        repository = repository_of(request.url.path)
        if repository in self.tokens:
            request.headers["Authorization"] = "Bearer " + self.tokens[repository]
        elif self.basic and self.username is not None:
            request.headers["Authorization"] = basic_header(self.username, self.password or "")
        response = yield request
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.headers.get("www-authenticate"))
        if challenge is None:
            return
        if challenge.scheme == "basic" and self.username is not None:
            self.basic = True
            request.headers["Authorization"] = basic_header(self.username, self.password or "")
            yield request
        elif challenge.scheme == "bearer" and "realm" in challenge.params:
            self.token_requests += 1
            token_response = yield self.token_request(challenge)
            token = token_of(token_response)
            if token is None:
                return
            self.tokens[repository] = token
            request.headers["Authorization"] = "Bearer " + token
            yield request

    def token_request(self, challenge: Challenge) -> httpx.Request:
        """The GET to the token realm for ``challenge``'s service and scopes."""
        query: list[tuple[str, str]] = []
        if "service" in challenge.params:
            query.append(("service", challenge.params["service"]))
        query += [("scope", scope) for scope in challenge.scopes]
        headers = {}
        if self.username is not None:
            headers["Authorization"] = basic_header(self.username, self.password or "")
        return httpx.Request("GET", httpx.URL(challenge.params["realm"], params=query), headers=headers)


def token_of(response: httpx.Response) -> str | None:
    """The token of a token-realm answer (``token`` or ``access_token``), None when it refused."""
    if response.status_code != 200:
        return None
    try:
        document = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    token = document.get("token") or document.get("access_token")
    return token if isinstance(token, str) and token else None
