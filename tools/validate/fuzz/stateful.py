"""A hypothesis state machine over the registry: upload POST → PATCH → PUT (or DELETE), blob reads, manifest and
index PUT → GET → DELETE, tag lists. It keeps a model of what the registry holds (``model.py``), so besides
the document's checks every answer is held to what the model predicts (status, bytes, digests, ranges).

Every request is a schemathesis case of its operation: the same response checks and curl commands as the
stateless fuzzer; a finding lists the steps that led to it. Single steps are rules, and so are whole flows
(``upload_flow``, ``manifest_flow``), so every run walks the sequences that matter end to end.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from registry_toolkit.validate.fuzz.model import Blob, Env, Manifest, Model, Upload, sha256
from registry_toolkit.validate.fuzz.senders import header_of

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCTET = "application/octet-stream"
OCI_TYPES = ("application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar")
DOCKER_TYPES = (
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
)
ACCEPT = f"{OCI_MANIFEST}, {OCI_INDEX}, {DOCKER_MANIFEST}"
TAGS = st.from_regex(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,15}", fullmatch=True)
ANNOTATIONS = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9.]{0,10}", fullmatch=True), st.text(max_size=12), max_size=3
)
REPO = st.integers(0, 7)
CHUNK = st.binary(max_size=48)


class RegistryMachine(RuleBasedStateMachine):
    env: Env
    uploads = Bundle("uploads")
    blobs = Bundle("blobs")
    manifests = Bundle("manifests")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.steps: list[str] = []
        self.names = self.env.names()
        self.case: Any = None

    # --- plumbing -----------------------------------------------------------------------------------
    def call(self, operation: str, expected: tuple[int, ...], **case: Any) -> Any | None:
        """Send one case; None when it got no answer or a status outside ``expected`` (a finding)."""
        env = self.env
        if env.expired():
            return None
        made = env.operations[operation].Case(**case)
        env.findings.count(operation)
        try:
            response = env.sender.send(made)
        except Exception as exc:
            env.findings.add(made, "no answer", f"{type(exc).__name__}: {exc}", None, self.steps)
            return None
        self.steps.append(env.findings.curl(made))
        self.case = made
        env.findings.validate(made, response, self.steps[:-1])
        if response.status_code not in expected:
            kind = f"expected {'/'.join(map(str, expected))}, got {response.status_code}"
            env.findings.add(made, kind, _body(response), response, self.steps[:-1])
            return None
        return response

    def judge(self, response: Any, condition: bool, message: str) -> None:
        if not condition:
            self.env.findings.add(self.case, "wrong answer", message, response, self.steps[:-1])

    def name(self, index: int) -> str:
        return self.names[index % len(self.names)]

    def session(self, name: str, response: Any | None, data: bytes) -> Upload | None:
        location = header_of(response, "location") if response is not None else None
        if response is not None and not location:
            self.judge(response, False, "no Location on an upload session answer")
        if not location:
            return None
        parts = urlsplit(location)
        return Upload(name, parts.path.rsplit("/", 1)[-1], tuple(parse_qsl(parts.query)), data)

    # --- upload steps -------------------------------------------------------------------------------
    def open_upload(self, name: str) -> Upload | None:
        return self.session(name, self.call("start_upload", (202,), path_parameters={"name": name}), b"")

    def append(self, upload: Upload, data: bytes, ranged: bool) -> Upload | None:
        headers = {"Content-Type": OCTET}
        if ranged and data:
            headers["Content-Range"] = f"{len(upload.data)}-{len(upload.data) + len(data) - 1}"
        response = self.call(
            "patch_upload",
            (202,),
            path_parameters=upload.path,
            query=dict(upload.query),
            headers=headers,
            body=data,
            media_type=OCTET,
        )
        total = len(upload.data) + len(data)
        if response is not None and total:
            self.judge(
                response, header_of(response, "range") == f"0-{total - 1}", f"Range is not 0-{total - 1}"
            )
        return self.session(upload.name, response, upload.data + data)

    def finish(self, upload: Upload, last: bytes, correct: bool) -> Blob | None:
        data = upload.data + last
        digest = sha256(data) if correct else sha256(b"not " + data)
        response = self.call(
            "complete_upload",
            (201,) if correct else (400,),
            path_parameters=upload.path,
            query={**dict(upload.query), "digest": digest},
            body=last,
            media_type=OCTET,
        )
        if response is None or not correct:
            return None
        self.judge(
            response,
            header_of(response, "docker-content-digest") == digest,
            "Docker-Content-Digest is not the digest",
        )
        self.model.blobs.add((upload.name, digest))
        return Blob(upload.name, data)

    def cancel_upload(self, upload: Upload) -> None:
        if (
            self.call("cancel_upload", (204,), path_parameters=upload.path, query=dict(upload.query))
            is not None
        ):
            self.call("upload_status", (404,), path_parameters=upload.path, query=dict(upload.query))

    # --- upload rules -------------------------------------------------------------------------------
    @rule(
        target=blobs,
        index=REPO,
        chunks=st.lists(CHUNK, max_size=4),
        ranged=st.booleans(),
        ending=st.sampled_from(("complete", "mismatch", "cancel")),
    )
    def upload_flow(self, index: int, chunks: list[bytes], ranged: bool, ending: str) -> Any:
        """POST → PATCH… → PUT ?digest= (or a wrong digest, or DELETE), in one step."""
        upload = self.open_upload(self.name(index))
        for chunk in chunks:
            upload = self.append(upload, chunk, ranged) if upload is not None else None
        if upload is None:
            return multiple()
        if ending == "cancel":
            self.cancel_upload(upload)
            return multiple()
        blob = self.finish(upload, b"", ending == "complete")
        return blob if blob is not None else multiple()

    @rule(target=uploads, index=REPO)
    def start(self, index: int) -> Any:
        upload = self.open_upload(self.name(index))
        return upload if upload is not None else multiple()

    @rule(target=uploads, upload=consumes(uploads), data=CHUNK, ranged=st.booleans())
    def patch(self, upload: Upload, data: bytes, ranged: bool) -> Any:
        found = self.append(upload, data, ranged)
        return found if found is not None else multiple()

    @rule(upload=uploads, data=st.binary(min_size=1, max_size=16), shift=st.integers(1, 8))
    def misplaced_chunk(self, upload: Upload, data: bytes, shift: int) -> None:
        start = len(upload.data) + shift
        headers = {"Content-Type": OCTET, "Content-Range": f"{start}-{start + len(data) - 1}"}
        self.call(
            "patch_upload",
            (416,),
            path_parameters=upload.path,
            query=dict(upload.query),
            headers=headers,
            body=data,
            media_type=OCTET,
        )

    @rule(upload=uploads)
    def status(self, upload: Upload) -> None:
        response = self.call("upload_status", (204,), path_parameters=upload.path, query=dict(upload.query))
        if response is not None and upload.data:
            expected = f"0-{len(upload.data) - 1}"
            self.judge(response, header_of(response, "range") == expected, f"Range is not {expected}")

    @rule(target=blobs, upload=consumes(uploads), last=st.binary(max_size=32), correct=st.booleans())
    def complete(self, upload: Upload, last: bytes, correct: bool) -> Any:
        blob = self.finish(upload, last, correct)
        return blob if blob is not None else multiple()

    @rule(upload=consumes(uploads))
    def cancel(self, upload: Upload) -> None:
        self.cancel_upload(upload)

    @rule(target=blobs, index=REPO, data=st.binary(max_size=64))
    def monolithic(self, index: int, data: bytes) -> Any:
        name = self.name(index)
        response = self.call(
            "start_upload",
            (201, 202),
            path_parameters={"name": name},
            query={"digest": sha256(data)},
            body=data,
            media_type=OCTET,
        )
        if response is None or response.status_code == 202:
            return multiple()
        self.model.blobs.add((name, sha256(data)))
        return Blob(name, data)

    # --- blob rules ---------------------------------------------------------------------------------
    @rule(blob=blobs, start=st.integers(0, 70), length=st.integers(1, 20), ranged=st.booleans())
    def read_blob(self, blob: Blob, start: int, length: int, ranged: bool) -> None:
        present = self.model.has_blob(blob)
        satisfiable = not ranged or start < len(blob.data)
        if not present:
            expected: tuple[int, ...] = (404,)
        elif not satisfiable:
            expected = (416,)
        else:
            expected = (206,) if ranged else (200,)
        headers = {"Range": f"bytes={start}-{start + length - 1}"} if ranged else {}
        path = {"name": blob.name, "digest": blob.digest}
        response = self.call("get_blob", expected, path_parameters=path, headers=headers)
        if response is not None and present and satisfiable:
            wanted = blob.data[start : start + length] if ranged else blob.data
            self.judge(response, response.content == wanted, "the body is not the blob's bytes")

    @rule(blob=blobs, index=REPO)
    def read_blob_elsewhere(self, blob: Blob, index: int) -> None:
        name = self.name(index)
        expected = (200,) if self.model.has_blob(blob, name) else (404,)
        self.call("head_blob", expected, path_parameters={"name": name, "digest": blob.digest})

    @precondition(lambda self: self.env.deletes)
    @rule(blob=consumes(blobs))
    def delete_blob(self, blob: Blob) -> None:
        path = {"name": blob.name, "digest": blob.digest}
        if self.call("delete_blob", (202,) if self.model.has_blob(blob) else (404,), path_parameters=path):
            self.model.blobs.discard((blob.name, blob.digest))
            self.call("get_blob", (404,), path_parameters=path)

    # --- manifest steps -----------------------------------------------------------------------------
    def image(
        self, config: Blob, layers: list[Blob], tag: str | None, annotations: dict[str, str], docker: bool
    ) -> tuple[Manifest, bool]:
        """A manifest of ``config`` and the ``layers`` in its repository; and whether the model holds them all."""
        layers = [layer for layer in layers if layer.name == config.name]
        present = all(self.model.has_blob(blob) for blob in [config, *layers])
        media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        config_type, layer_type = DOCKER_TYPES if docker else OCI_TYPES
        document: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": config.descriptor(config_type),
            "layers": [layer.descriptor(layer_type) for layer in layers],
        }
        if annotations and not docker:
            document["annotations"] = annotations
        return Manifest(config.name, json.dumps(document).encode(), media_type, tag), present

    def put(self, manifest: Manifest, present: bool) -> Manifest | None:
        response = self.call(
            "put_manifest",
            (201,) if present else (400,),
            path_parameters={"name": manifest.name, "reference": manifest.tag or manifest.digest},
            headers={"Content-Type": manifest.media_type},
            body=manifest.content,
            media_type=manifest.media_type,
        )
        if response is None or not present:
            return None
        self.judge(
            response,
            header_of(response, "docker-content-digest") == manifest.digest,
            "Docker-Content-Digest is not the manifest's digest",
        )
        self.model.manifests.add((manifest.name, manifest.digest))
        if manifest.tag:
            self.model.tags[(manifest.name, manifest.tag)] = manifest.digest
        return manifest

    def read(self, manifest: Manifest, by_tag: bool, head: bool) -> None:
        reference = manifest.tag if by_tag and manifest.tag else manifest.digest
        if reference == manifest.tag:
            wanted = self.model.tags.get((manifest.name, reference))
        else:
            wanted = manifest.digest if (manifest.name, manifest.digest) in self.model.manifests else None
        response = self.call(
            "head_manifest" if head else "get_manifest",
            (404,) if wanted is None else (200,),
            path_parameters={"name": manifest.name, "reference": reference},
            headers={"Accept": ACCEPT},
        )
        if response is not None and wanted is not None:
            self.judge(
                response,
                header_of(response, "docker-content-digest") == wanted,
                "Docker-Content-Digest is not the stored digest",
            )
            if not head and wanted == manifest.digest:
                self.judge(
                    response, response.content == manifest.content, "the body is not the manifest's bytes"
                )

    def delete(self, manifest: Manifest) -> None:
        path = {"name": manifest.name, "reference": manifest.digest}
        present = (manifest.name, manifest.digest) in self.model.manifests
        if self.call("delete_manifest", (202,) if present else (404,), path_parameters=path) is not None:
            self.model.drop_manifest(manifest.name, manifest.digest)
            self.call("get_manifest", (404,), path_parameters=path, headers={"Accept": ACCEPT})

    # --- manifest rules -----------------------------------------------------------------------------
    @rule(
        config=blobs,
        layers=st.lists(blobs, max_size=3),
        tag=st.none() | TAGS,
        annotations=ANNOTATIONS,
        docker=st.booleans(),
    )
    def manifest_flow(
        self, config: Blob, layers: list[Blob], tag: str | None, annotations: dict[str, str], docker: bool
    ) -> None:
        """PUT → GET (by tag and digest) → DELETE → GET, in one step."""
        manifest, present = self.image(config, layers, tag, annotations, docker)
        if self.put(manifest, present) is None:
            return
        self.read(manifest, by_tag=True, head=False)
        self.read(manifest, by_tag=False, head=True)
        if self.env.deletes:
            self.delete(manifest)

    @rule(
        target=manifests,
        config=blobs,
        layers=st.lists(blobs, max_size=3),
        tag=st.none() | TAGS,
        annotations=ANNOTATIONS,
        docker=st.booleans(),
    )
    def put_manifest(
        self, config: Blob, layers: list[Blob], tag: str | None, annotations: dict[str, str], docker: bool
    ) -> Any:
        found = self.put(*self.image(config, layers, tag, annotations, docker))
        return found if found is not None else multiple()

    @rule(target=manifests, children=st.lists(manifests, min_size=1, max_size=3), tag=st.none() | TAGS)
    def put_index(self, children: list[Manifest], tag: str | None) -> Any:
        name = children[0].name
        entries = [
            {
                "mediaType": c.media_type,
                "digest": c.digest,
                "size": len(c.content),
                "platform": {"architecture": "amd64", "os": "linux"},
            }
            for c in children
            if c.name == name
        ]
        document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        present = all((name, entry["digest"]) in self.model.manifests for entry in entries)
        found = self.put(Manifest(name, json.dumps(document).encode(), OCI_INDEX, tag), present)
        return found if found is not None else multiple()

    @rule(manifest=manifests, by_tag=st.booleans(), head=st.booleans())
    def read_manifest(self, manifest: Manifest, by_tag: bool, head: bool) -> None:
        self.read(manifest, by_tag, head)

    @precondition(lambda self: self.env.deletes)
    @rule(manifest=consumes(manifests))
    def delete_manifest(self, manifest: Manifest) -> None:
        self.delete(manifest)

    @precondition(lambda self: bool(self.model.tags))
    @rule(index=REPO, n=st.none() | st.integers(1, 5))
    def list_tags(self, index: int, n: int | None) -> None:
        name = self.name(index)
        tags = sorted(tag for (repo, tag) in self.model.tags if repo == name)
        has_content = any(repo == name for repo, _ in self.model.blobs | self.model.manifests)
        query = {"n": n} if n is not None else {}
        response = self.call(
            "list_tags", (200,) if has_content else (200, 404), path_parameters={"name": name}, query=query
        )
        if response is None or response.status_code != 200:
            return
        listed = json.loads(response.content).get("tags") or []
        if n is None:
            self.judge(response, set(tags) <= set(listed), f"tags {listed}, the model holds {tags}")
        else:
            self.judge(response, len(listed) <= n, f"{len(listed)} tags for n={n}")


def machine(env: Env) -> type[RegistryMachine]:
    """A RegistryMachine class bound to ``env`` (hypothesis instantiates it without arguments)."""
    return type("RegistryMachineRun", (RegistryMachine,), {"env": env})


def run_machine(env: Env, *, max_examples: int, steps: int, seed: int) -> None:
    """Run the machine ``max_examples`` times, ``steps`` steps at most each; the same seed, the same runs."""
    config = settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    run_state_machine_as_test(seeded(seed)(machine(env)), settings=config)  # type: ignore[no-untyped-call]


def _body(response: Any) -> str:
    content = getattr(response, "content", b"") or b""
    return bytes(content[:500]).decode("utf-8", "replace")
