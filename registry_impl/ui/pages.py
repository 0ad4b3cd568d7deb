"""The UI's pages: repositories, a repository, a manifest or index, and the delete action.

Each page asks the registry's API (``upstream``) with the browser's credentials and renders a template;
an API refusal becomes the page's answer (401 with a Basic challenge, so the browser prompts; 403; 404).
Lists use the API's own pagination (``n``/``last``), so a page costs the same on a registry of any size.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from registry_client import ACCEPT
from registry_client.errors import ClientError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from registry_impl.services.state import State
from registry_impl.services.usage import StoredUsage, stored_usage
from registry_impl.ui import content
from registry_impl.ui.links import path_for
from registry_impl.ui.upstream import Upstream

__all__ = ["ApiRefused", "Pages"]

PAGE_SIZE = 50
TAG_COUNT_LIMIT = 1000
CONFIG_LIMIT = 256 * 1024  # image configs read for platform and creation time, when no larger
MANIFEST_ACCEPT = ", ".join(ACCEPT)
NO_SUCH_DIGEST = "sha256:" + "0" * 64  # the probe of may_delete: no content hashes to it
USAGE_TTL = 60.0  # seconds between reads of the stored usage report
BROWSER_REALM = 'Basic realm="Registry", charset="UTF-8"'


class ApiRefused(Exception):
    """The API answered a page's request with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _status(response: httpx.Response) -> int:
    """The API's status, with a token lacking the scope (401 ``insufficient_scope``) shown as the denial it is."""
    if response.status_code == 401 and "insufficient_scope" in response.headers.get("www-authenticate", ""):
        return 403
    return response.status_code


def _unreachable(exc: httpx.TransportError) -> ApiRefused:
    """The API's calls reach another host only for a token (the configured realm): that host failing to
    answer is the gateway failing (502), not the user's credentials (which would ask them again)."""
    try:
        where = f" at {exc.request.url.scheme}://{exc.request.url.netloc.decode()}"
    except RuntimeError:  # no request attached
        where = ""
    return ApiRefused(502, f"the token service{where} could not be reached: {exc}")


def _same_origin(request: Request) -> bool:
    """A form POST from our own pages: ``Sec-Fetch-Site`` says so, or (older browsers) ``Origin`` names this host."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


def _message(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or response.reason_phrase
    except (ValueError, AttributeError):
        return response.reason_phrase


def _walk_key(name: str) -> tuple[str, ...]:
    return tuple(name.split("/"))  # the catalog's order: component by component


def _bound_before(prefix: str) -> str:
    """A ``last`` that the catalog walk places just before every name starting with ``prefix`` ("" for none)."""
    stem = prefix.rstrip("/")
    if not stem:
        return ""
    head, _, tail = stem.rpartition("/")
    lowered = tail[:-1] + chr(ord(tail[-1]) - 1) + "~"
    return f"{head}/{lowered}" if head else lowered


def _not_past(name: str, prefix: str) -> bool:
    """Whether names after ``name`` may still start with ``prefix``."""
    return not prefix or name.startswith(prefix) or _walk_key(name) < _walk_key(prefix.rstrip("/"))


@dataclass
class Api:
    """One browser request's view of the API."""

    client: httpx.AsyncClient
    configs: ConfigCache

    async def get(
        self, path: str, params: Mapping[str, str | int] | None = None, **headers: str
    ) -> httpx.Response:
        try:
            response = await self.client.get(quote(path, safe="/:@"), params=params, headers=headers)
        except ClientError as exc:  # the token realm refused the credentials
            raise ApiRefused(401, str(exc)) from exc
        except httpx.TransportError as exc:
            raise _unreachable(exc) from exc
        if response.status_code >= 400:
            raise ApiRefused(_status(response), _message(response))
        return response

    async def manifest(self, name: str, reference: str) -> tuple[bytes, str, str]:
        response = await self.get(f"/v2/{name}/manifests/{reference}", Accept=MANIFEST_ACCEPT)
        media_type = response.headers.get("content-type", "").split(";")[0]
        return response.content, media_type, response.headers.get("docker-content-digest", "")

    async def tag_count(self, name: str) -> str:
        try:
            response = await self.get(f"/v2/{name}/tags/list", {"n": TAG_COUNT_LIMIT})
        except ApiRefused:
            return "\u2013"
        tags = response.json().get("tags") or []
        return f"{len(tags)}+" if "link" in response.headers else str(len(tags))

    async def may_delete(self, name: str) -> bool:
        """Whether the API would let this user delete in ``name``: a blob DELETE of a digest no content has,
        which the access controller judges (``delete`` scope; a token is fetched for it) before the handler
        answers 404 — nothing is written or deleted (a manifest DELETE would take a claim first), and only a
        401, 403 or 405 hides the delete buttons."""
        try:
            response = await self.client.delete(f"/v2/{name}/blobs/{NO_SUCH_DIGEST}")
        except (ClientError, httpx.TransportError):
            return False
        return response.status_code not in (401, 403, 405)

    async def may_list_catalog(self) -> bool:
        """Whether this user may list the catalog (``registry:catalog:*``; anyone without access control):
        who may see the registry as a whole, and so how a repository's bytes are shared with the others."""
        try:
            await self.get("/v2/_catalog", {"n": 1})
        except ApiRefused:
            return False
        return True

    async def image_config(self, name: str, summary: content.Summary) -> dict[str, Any]:
        """The image's config document (platform, creation time), {} for an index or a large or non-JSON config.

        Configs are content-addressed, so each is read once per process and repository (``ConfigCache``);
        the manifest naming it was read with the user's credentials just before.
        """
        config = summary.config or {}
        if (
            summary.is_index
            or int(config.get("size") or 0) > CONFIG_LIMIT
            or "json" not in str(config.get("mediaType", ""))
            or "digest" not in config
        ):
            return {}
        key = (name, str(config["digest"]))
        cached = self.configs.get(key)
        if cached is not None:
            return cached
        try:
            document = (await self.get(f"/v2/{name}/blobs/{config['digest']}")).json()
        except (ApiRefused, ValueError):
            return {}
        found = document if isinstance(document, dict) else {}
        self.configs.put(key, found)
        return found


class ConfigCache:
    """Image configs by (repository, digest), the most recently used kept."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[str, str], value: dict[str, Any]) -> None:
        self.entries[key] = value
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


class UsageCache:
    """The stored usage report (``registry usage --save``), read again at most every ``ttl`` seconds."""

    def __init__(self, state: State | None, ttl: float = USAGE_TTL) -> None:
        self.state = state
        self.ttl = ttl
        self.loaded_at = -ttl
        self.value: StoredUsage | None = None

    async def get(self) -> StoredUsage | None:
        if self.state is None:
            return None
        now = time.monotonic()
        if now - self.loaded_at >= self.ttl:
            self.value = await stored_usage(self.state)
            self.loaded_at = now
        return self.value


class Pages:
    def __init__(
        self, upstream: Upstream, templates: Jinja2Templates, delete_enabled: bool, state: State | None = None
    ) -> None:
        self.upstream = upstream
        self.templates = templates
        self.delete_enabled = delete_enabled
        self.configs = ConfigCache()
        self.usage = UsageCache(state)

    def api(self, request: Request) -> Api:
        return Api(self.upstream.client(request.headers.get("authorization", "")), self.configs)

    def render(self, request: Request, template: str, code: int = 200, **values: Any) -> Response:
        values.setdefault("host", request.headers.get("host", ""))
        values.setdefault("human", content.human_size)
        values.setdefault("platform_of", content.platform_of)
        return self.templates.TemplateResponse(request, template, values, status_code=code)

    def refused(self, request: Request, exc: ApiRefused) -> Response:
        status = exc.status if 400 <= exc.status < 500 else 502  # the API failing is a bad gateway here
        response = self.render(request, "error.html", status, status=status, message=exc.message)
        if status == 401:
            response.headers["WWW-Authenticate"] = BROWSER_REALM
        return response

    async def repositories(self, request: Request) -> Response:
        prefix = request.query_params.get("prefix", "").strip()
        last = request.query_params.get("last", "") or _bound_before(prefix)
        params: dict[str, str | int] = {"n": PAGE_SIZE, **({"last": last} if last else {})}
        api = self.api(request)
        try:
            response = await api.get("/v2/_catalog", params)
        except ApiRefused as exc:
            if exc.status != 403:
                return self.refused(request, exc)
            return self.render(
                request, "repositories.html", catalog=False, rows=[], prefix=prefix, next=None, usage=None
            )
        names: list[str] = response.json().get("repositories") or []
        shown = [n for n in names if n.startswith(prefix)]
        more = "link" in response.headers and bool(names) and _not_past(names[-1], prefix)
        counts = await asyncio.gather(*(api.tag_count(n) for n in shown))
        return self.render(
            request,
            "repositories.html",
            catalog=True,
            rows=list(zip(shown, counts, strict=True)),
            usage=await self.usage.get(),
            prefix=prefix,
            next=names[-1] if more else None,
        )

    async def repository(self, request: Request) -> Response:
        name = request.path_params["name"]
        last = request.query_params.get("last", "")
        params: dict[str, str | int] = {"n": PAGE_SIZE, **({"last": last} if last else {})}
        api = self.api(request)
        try:
            response = await api.get(f"/v2/{name}/tags/list", params)
            tags: list[str] = response.json().get("tags") or []
            rows, may_delete = await asyncio.gather(
                asyncio.gather(*(self._tag_row(api, name, tag) for tag in tags)), self._may_delete(api, name)
            )
        except ApiRefused as exc:
            return self.refused(request, exc)
        usage = await self.usage.get()
        return self.render(
            request,
            "repository.html",
            name=name,
            rows=rows,
            next=tags[-1] if "link" in response.headers and tags else None,
            deleted=request.query_params.get("deleted", ""),
            usage=usage,
            # How many of its bytes other repositories share tells whether content exists elsewhere: only
            # for those who may see the whole registry (a user confined to a few repositories could
            # otherwise confirm a guessed blob in one they may not pull).
            shared_visible=usage is not None and await api.may_list_catalog(),
            delete_enabled=may_delete,
            pulls=content.pull_commands(request.headers.get("host", ""), name, tags[0]) if tags else [],
        )

    async def _may_delete(self, api: Api, name: str) -> bool:
        return self.delete_enabled and await api.may_delete(name)

    async def _tag_row(self, api: Api, name: str, tag: str) -> dict[str, Any]:
        try:
            body, media_type, digest = await api.manifest(name, tag)
        except ApiRefused as exc:
            return {"tag": tag, "error": exc.message}
        summary = content.summarize(body, media_type)
        config = await api.image_config(name, summary)
        platform = content.platform_of(config)
        return {
            "tag": tag,
            "digest": digest,
            "summary": summary,
            "platforms": summary.platforms or ([platform] if platform else []),
            "created": str(config.get("created", "")),
        }

    async def manifest(self, request: Request) -> Response:
        name, reference = request.path_params["name"], request.path_params["reference"]
        api = self.api(request)
        try:
            body, media_type, digest = await api.manifest(name, reference)
            summary = content.summarize(body, media_type)
            config, referrers, may_delete = await asyncio.gather(
                api.image_config(name, summary),
                api.get(f"/v2/{name}/referrers/{digest}"),
                self._may_delete(api, name),
            )
        except ApiRefused as exc:
            return self.refused(request, exc)
        host = request.headers.get("host", "")
        return self.render(
            request,
            "manifest.html",
            name=name,
            reference=reference,
            digest=digest,
            summary=summary,
            config=config,
            config_json=json.dumps(config, indent=2) if config else "",
            platform=content.platform_of(config),
            raw=body.decode("utf-8", "replace"),
            referrers=content.group_referrers(referrers.json()),
            delete_enabled=may_delete,
            pulls=content.pull_commands(host, name, digest if ":" in reference else reference),
        )

    async def delete(self, request: Request) -> Response:
        """POST from the delete button: a tag (``DELETE …/manifests/<tag>``) or a manifest by digest."""
        name, reference = request.path_params["name"], request.path_params["reference"]
        if not _same_origin(request):
            return self.refused(request, ApiRefused(403, "cross-site request refused"))
        try:
            response = await self.api(request).client.delete(
                quote(f"/v2/{name}/manifests/{reference}", safe="/:@")
            )
        except ClientError as exc:
            return self.refused(request, ApiRefused(401, str(exc)))
        except httpx.TransportError as exc:
            return self.refused(request, _unreachable(exc))
        if response.status_code >= 400:
            return self.refused(request, ApiRefused(_status(response), _message(response)))
        target = path_for(request, "ui-repository", name=name).include_query_params(deleted=reference)
        return RedirectResponse(str(target), status_code=303)
