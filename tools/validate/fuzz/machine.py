"""The plumbing of the state machine: sending a case and judging the answer, and the protocol steps
(open, append, finish or cancel an upload; build, put, read, delete a manifest) its rules are made of."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine
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
UPLOADS = Bundle("uploads")
BLOBS = Bundle("blobs")
MANIFESTS = Bundle("manifests")


class MachineBase(RuleBasedStateMachine):
    """What every rule uses: the run's repositories, the model, the steps so far (for findings)."""

    env: Env

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


def _body(response: Any) -> str:
    content = getattr(response, "content", b"") or b""
    return bytes(content[:500]).decode("utf-8", "replace")
