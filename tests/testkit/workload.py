"""A mixed registry workload from many client threads, with a model of what was acknowledged, and its checker.

Each client owns repository tags ``c<client>-<n>`` (so the last acknowledged write of a tag is well defined),
pushes images through every upload style (monolithic POST+PUT, chunked PATCHes, a streamed PATCH without
Content-Length, single POST ``?digest=``), pushes manifests by digest and deletes some of them, deletes some
of its tags, moves one tag that every client shares, and reads what others acknowledged. A request whose
outcome is unknown (the server was killed under it) widens what the checker accepts for that tag, never what
must be there: every acknowledged blob, manifest and tag must be readable afterwards with the right bytes.

Readers fail the run on any 5xx, on bytes that do not hash to the digest they were served under, and on
a manifest GET by digest that is 404 although it was acknowledged and never deleted.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = {"Accept": OCI_MANIFEST}
SHARED_REPO, SHARED_TAG = "w/shared", "moving"
OCTETS = {"Content-Type": "application/octet-stream"}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Unknown(Exception):
    """The request's outcome is unknown: the connection failed (the server may have been killed)."""


@dataclass
class Model:
    """What the server acknowledged, and what it may hold where an outcome is unknown."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> bytes (repository-independent check)
    blob_repos: dict[str, str] = field(default_factory=dict)  # digest -> a repository it was acknowledged in
    manifests: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (repo, digest) -> bytes
    deleted: set[tuple[str, str]] = field(default_factory=set)  # manifests deleted by digest (or maybe)
    tags: dict[tuple[str, str], set[str | None]] = field(
        default_factory=dict
    )  # possible values; None: absent
    shared: set[str] = field(default_factory=set)  # digests the shared tag was (maybe) moved to
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def tag_acked(self, key: tuple[str, str], value: str | None) -> None:
        with self.lock:
            self.tags[key] = {value}

    def tag_maybe(self, key: tuple[str, str], value: str | None) -> None:
        with self.lock:
            self.tags.setdefault(key, {None}).add(value)


class Client:
    """One client thread's registry calls: a 5xx is a problem; a connection failure raises Unknown."""

    def __init__(self, urls: Sequence[str], model: Model, seed: int) -> None:
        self.urls = list(urls)
        self.model = model
        self.rng = random.Random(seed)
        self.http = httpx.Client(timeout=30.0)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        url = path if path.startswith("http") else self.rng.choice(self.urls) + path
        try:
            response = self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            raise Unknown(f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 500:
            self.model.problem(f"{method} {path} -> {response.status_code} {response.text[:200]}")
        return response

    def expect(self, response: httpx.Response, *statuses: int) -> httpx.Response:
        if response.status_code not in statuses:
            self.model.problem(
                f"{response.request.method} {response.request.url.path} -> {response.status_code} "
                f"(expected {statuses}) {response.text[:200]}"
            )
        return response

    # ---- pushes ----

    def push_blob(self, repo: str, data: bytes) -> bool:
        """Push ``data`` in a random style; True when acknowledged (201)."""
        digest = sha256(data)
        style = self.rng.choice(["single", "monolithic", "chunked", "streamed"])
        self.model.count(f"upload-{style}")
        if style == "single":
            r = self.request(
                "POST", f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data, headers=OCTETS
            )
            ok = self.expect(r, 201, 429).status_code == 201
        else:
            r = self.expect(self.request("POST", f"/v2/{repo}/blobs/uploads/"), 202)
            if r.status_code != 202:
                return False
            ok = self._finish_session(repo, r.headers["location"], data, style)
        if ok:
            with self.model.lock:
                self.model.blobs[digest] = data
                self.model.blob_repos.setdefault(digest, repo)
        return ok

    def _finish_session(self, repo: str, location: str, data: bytes, style: str) -> bool:
        digest, sent = sha256(data), 0
        try:
            if style == "monolithic":
                r = self.request("PUT", location, params={"digest": digest}, content=data, headers=OCTETS)
                return self.expect(r, 201, 429).status_code == 201
            if style == "streamed":
                r = self.request(
                    "PATCH",
                    location,
                    content=iter([data[: len(data) // 2], data[len(data) // 2 :]]),
                    headers=OCTETS,
                )
                if self.expect(r, 202, 429).status_code != 202:
                    return False
                sent, location = len(data), r.headers["location"]
            else:
                half = len(data) // 2
                for start, end in ((0, half), (half, len(data))):
                    r = self.request(
                        "PATCH",
                        location,
                        content=data[start:end],
                        headers={**OCTETS, "Content-Range": f"{start}-{end - 1}"},
                    )
                    if self.expect(r, 202, 429).status_code != 202:
                        return False
                    sent, location = end, r.headers["location"]
            r = self.request("PUT", location, params={"digest": digest})
            return self.expect(r, 201, 429).status_code == 201
        except Unknown:
            return self.resume(location, data, sent)

    def resume(self, location: str, data: bytes, sent: int, attempts: int = 40) -> bool:
        """After a failed connection: the session either resumes from what it holds, or is gone (404)."""
        for _ in range(attempts):
            try:
                r = self.request("GET", location)
            except Unknown:
                time.sleep(0.25)
                continue
            if r.status_code == 404:
                self.model.count("resume-404")
                return False
            if r.status_code != 204:
                self.model.problem(f"upload status after a failure: {r.status_code} {r.text[:200]}")
                return False
            end = int(r.headers["range"].rsplit("-", 1)[1]) if r.headers.get("range") else -1
            held = end + 1 if end > 0 else 0  # "0-0" is 0 or 1 byte (distribution's header): assume 0
            if held > len(data):
                self.model.problem(f"an upload holds {held} bytes, more than the {len(data)} sent")
                return False
            try:
                r = self.request(
                    "PUT",
                    r.headers["location"],
                    params={"digest": sha256(data)},
                    content=data[held:],
                    headers=OCTETS,
                )
            except Unknown:
                time.sleep(0.25)
                continue
            if r.status_code == 404:  # the completion itself had landed before the kill
                self.model.count("resume-404")
                return False
            if r.status_code == 400 and end == 0:  # it held the 1 byte "0-0" may mean: refused, discarded
                self.model.count("resume-ambiguous")
                return False
            self.model.count("resumed")
            return self.expect(r, 201, 429).status_code == 201
        return False

    def manifest_for(self, repo: str, seed: bytes) -> tuple[bytes, str] | None:
        """Push a config and a layer and return a manifest naming them (not yet pushed)."""
        layer = seed * (1 + self.rng.randrange(1, 3000) // max(1, len(seed)))
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed.hex()}).encode()
        if not (self.push_blob(repo, layer) and self.push_blob(repo, config)):
            return None
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha256(config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": sha256(layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        return manifest, sha256(manifest)

    def put_manifest(self, repo: str, reference: str, manifest: bytes) -> int:
        r = self.request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            content=manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        self.model.count(f"manifest-{r.status_code}")
        return self.expect(r, 201, 429).status_code


def pushed_blobs_manifest(http: httpx.Client, name: str, seed: bytes) -> tuple[bytes, str]:
    """A config and a layer made from ``seed``, pushed into ``name``, and a manifest naming them (not pushed):
    its bytes and digest."""
    layer, config = seed * 64, b'{"seed":"%s"}' % seed.hex().encode()
    for data in (layer, config):
        r = http.post(
            f"/v2/{name}/blobs/uploads/", params={"digest": sha256(data)}, content=data, headers=OCTETS
        )
        assert r.status_code == 201, r.text
    body = (
        b'{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json",'
        b'"digest":"%s","size":%d},"layers":[{"mediaType":"application/octet-stream","digest":"%s","size":%d}]}'
        % (OCI_MANIFEST.encode(), sha256(config).encode(), len(config), sha256(layer).encode(), len(layer))
    )
    return body, sha256(body)


def run_client(urls: Sequence[str], model: Model, index: int, seconds: float, stop: threading.Event) -> None:
    """Random operations until ``seconds`` pass or ``stop`` is set; unknown outcomes go into the model."""
    client = Client(urls, model, seed=index)
    repo, n = f"w/r{index % 8}", 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and not stop.is_set():
            n += 1
            try:
                _one_operation(client, repo, index, n)
            except Unknown:
                model.count("unknown")
                time.sleep(0.2)
    finally:
        client.close()


def _one_operation(client: Client, repo: str, index: int, n: int) -> None:
    model, rng = client.model, client.rng
    choice = rng.random()
    if choice < 0.45:  # an image by tag (own tag), or the shared tag
        shared = choice < 0.12
        target = SHARED_REPO if shared else repo
        made = client.manifest_for(target, b"c%d-%d-" % (index, n))
        if made is None:
            return
        manifest, digest = made
        tag = SHARED_TAG if shared else f"c{index}-{rng.randrange(6)}"
        key = (target, tag)
        if not shared:
            model.tag_maybe(key, digest)
        else:
            with model.lock:
                model.shared.add(digest)
        status = client.put_manifest(target, tag, manifest)
        if status == 201:
            with model.lock:
                model.manifests[(target, digest)] = manifest
            if not shared:
                model.tag_acked(key, digest)
    elif choice < 0.6:  # a manifest by digest, then maybe its deletion
        made = client.manifest_for(repo, b"d%d-%d-" % (index, n))
        if made is None:
            return
        manifest, digest = made
        if client.put_manifest(repo, digest, manifest) != 201:
            return
        with model.lock:
            model.manifests[(repo, digest)] = manifest
        if rng.random() < 0.5:
            with model.lock:
                model.deleted.add((repo, digest))  # from now on it may be gone
            r = client.request("DELETE", f"/v2/{repo}/manifests/{digest}")
            client.expect(r, 202, 429)
    elif choice < 0.7:  # delete an own tag
        tag = f"c{index}-{rng.randrange(6)}"
        key = (repo, tag)
        model.tag_maybe(key, None)
        r = client.expect(client.request("DELETE", f"/v2/{repo}/manifests/{tag}"), 202, 404, 429)
        if r.status_code in (202, 404):
            model.tag_acked(key, None)
    else:  # read what others acknowledged
        _read_something(client)


def _read_something(client: Client) -> None:
    model, rng = client.model, client.rng
    with model.lock:
        blobs = list(model.blobs.items())
        manifests = [(k, v) for k, v in model.manifests.items() if k not in model.deleted]
    if blobs and rng.random() < 0.5:
        digest, data = rng.choice(blobs)
        r = client.request("GET", f"/v2/{model.blob_repos[digest]}/blobs/{digest}")
        if r.status_code != 200 or r.content != data:
            model.problem(f"blob {digest}: {r.status_code}, {len(r.content)} bytes (expected {len(data)})")
        model.count("read-blob")
    elif manifests:
        (repo, digest), content = rng.choice(manifests)
        r = client.request("GET", f"/v2/{repo}/manifests/{digest}", headers=ACCEPT)
        if r.status_code != 200 or r.content != content:
            with model.lock:
                gone = (repo, digest) in model.deleted
            if not (gone and r.status_code == 404):
                model.problem(
                    f"acknowledged manifest {repo}@{digest}: {r.status_code}, hash {sha256(r.content)}"
                )
        model.count("read-manifest")


def check(urls: Sequence[str], model: Model) -> list[str]:
    """After the workload: every acknowledged thing is there with its bytes; every tag listed resolves."""
    problems = list(model.problems)
    with httpx.Client(base_url=urls[0], timeout=30.0) as http:
        for digest, data in model.blobs.items():
            r = http.get(f"/v2/{model.blob_repos[digest]}/blobs/{digest}")
            if r.status_code != 200 or r.content != data:
                problems.append(f"acknowledged blob {digest}: {r.status_code}, {len(r.content)} bytes")
        for (repo, digest), content in model.manifests.items():
            if (repo, digest) in model.deleted:
                continue
            r = http.get(f"/v2/{repo}/manifests/{digest}", headers=ACCEPT)
            if r.status_code != 200 or r.content != content:
                problems.append(
                    f"acknowledged manifest {repo}@{digest}: {r.status_code}, other bytes or none"
                )
        for (repo, tag), possible in model.tags.items():
            r = http.get(f"/v2/{repo}/manifests/{tag}", headers=ACCEPT)
            got = r.headers.get("docker-content-digest") if r.status_code == 200 else None
            if r.status_code not in (200, 404) or got not in possible:
                problems.append(
                    f"tag {repo}:{tag} is {got} ({r.status_code}); acknowledged/possible: {possible}"
                )
            elif r.status_code == 200 and sha256(r.content) != got:
                problems.append(f"tag {repo}:{tag}: bytes do not hash to {got}")
        repos = {repo for repo, _ in model.tags} | {SHARED_REPO}
        for repo in sorted(repos):
            problems += _check_tag_list(http, repo, model)
    return problems


def _check_tag_list(http: httpx.Client, repo: str, model: Model) -> list[str]:
    problems = []
    r = http.get(f"/v2/{repo}/tags/list", params={"n": 10000})
    listed = set(r.json().get("tags") or []) if r.status_code == 200 else set()
    for tag in listed:
        got = http.get(f"/v2/{repo}/manifests/{tag}", headers=ACCEPT)
        if got.status_code != 200:
            problems.append(f"{repo}: tag {tag} is listed but answers {got.status_code} (torn)")
        elif repo == SHARED_REPO and got.headers.get("docker-content-digest") not in model.shared:
            problems.append(f"{repo}:{tag} points at {got.headers.get('docker-content-digest')}, never put")
        digest = got.headers.get("docker-content-digest")
        if got.status_code == 200 and digest is not None:
            revision = http.get(f"/v2/{repo}/manifests/{digest}", headers=ACCEPT)
            if revision.status_code != 200:
                problems.append(f"{repo}:{tag} points at {digest}, which answers {revision.status_code}")
    for (tag_repo, tag), possible in model.tags.items():
        if tag_repo == repo and None not in possible and tag not in listed:
            problems.append(f"{repo}: acknowledged tag {tag} missing from the tags list")
    return problems


def run_workload(
    urls: Sequence[str], clients: int, seconds: float, during: Callable[[threading.Event], None] | None = None
) -> Model:
    """``clients`` threads for ``seconds``; ``during(stop)`` runs alongside (a killer, say)."""
    model, stop = Model(), threading.Event()
    threads = [
        threading.Thread(target=run_client, args=(urls, model, i, seconds, stop), daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        if during is not None:
            during(stop)
    finally:
        for thread in threads:
            thread.join(seconds + 120)
        stop.set()
    return model
