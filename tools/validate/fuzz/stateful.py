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

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st
from hypothesis.stateful import consumes, multiple, precondition, rule, run_state_machine_as_test
from registry_toolkit.validate.fuzz.machine import (
    ANNOTATIONS,
    BLOBS,
    CHUNK,
    MANIFESTS,
    OCI_INDEX,
    OCTET,
    REPO,
    TAGS,
    UPLOADS,
    MachineBase,
)
from registry_toolkit.validate.fuzz.model import Blob, Env, Manifest, Upload, sha256
from registry_toolkit.validate.fuzz.senders import header_of


class RegistryMachine(MachineBase):
    """The rules: single steps, and whole flows, over three repositories of the run."""

    # --- upload rules -------------------------------------------------------------------------------
    @rule(
        target=BLOBS,
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

    @rule(target=UPLOADS, index=REPO)
    def start(self, index: int) -> Any:
        upload = self.open_upload(self.name(index))
        return upload if upload is not None else multiple()

    @rule(target=UPLOADS, upload=consumes(UPLOADS), data=CHUNK, ranged=st.booleans())
    def patch(self, upload: Upload, data: bytes, ranged: bool) -> Any:
        found = self.append(upload, data, ranged)
        return found if found is not None else multiple()

    @rule(upload=UPLOADS, data=st.binary(min_size=1, max_size=16), shift=st.integers(1, 8))
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

    @rule(upload=UPLOADS)
    def status(self, upload: Upload) -> None:
        response = self.call("upload_status", (204,), path_parameters=upload.path, query=dict(upload.query))
        if response is not None and upload.data:
            expected = f"0-{len(upload.data) - 1}"
            self.judge(response, header_of(response, "range") == expected, f"Range is not {expected}")

    @rule(target=BLOBS, upload=consumes(UPLOADS), last=st.binary(max_size=32), correct=st.booleans())
    def complete(self, upload: Upload, last: bytes, correct: bool) -> Any:
        blob = self.finish(upload, last, correct)
        return blob if blob is not None else multiple()

    @rule(upload=consumes(UPLOADS))
    def cancel(self, upload: Upload) -> None:
        self.cancel_upload(upload)

    @rule(target=BLOBS, index=REPO, data=st.binary(max_size=64))
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
    @rule(blob=BLOBS, start=st.integers(0, 70), length=st.integers(1, 20), ranged=st.booleans())
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

    @rule(blob=BLOBS, index=REPO)
    def read_blob_elsewhere(self, blob: Blob, index: int) -> None:
        name = self.name(index)
        expected = (200,) if self.model.has_blob(blob, name) else (404,)
        self.call("head_blob", expected, path_parameters={"name": name, "digest": blob.digest})

    @precondition(lambda self: self.env.deletes)
    @rule(blob=consumes(BLOBS))
    def delete_blob(self, blob: Blob) -> None:
        path = {"name": blob.name, "digest": blob.digest}
        if self.call("delete_blob", (202,) if self.model.has_blob(blob) else (404,), path_parameters=path):
            self.model.blobs.discard((blob.name, blob.digest))
            self.call("get_blob", (404,), path_parameters=path)

    # --- manifest rules -----------------------------------------------------------------------------
    @rule(
        config=BLOBS,
        layers=st.lists(BLOBS, max_size=3),
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
        target=MANIFESTS,
        config=BLOBS,
        layers=st.lists(BLOBS, max_size=3),
        tag=st.none() | TAGS,
        annotations=ANNOTATIONS,
        docker=st.booleans(),
    )
    def put_manifest(
        self, config: Blob, layers: list[Blob], tag: str | None, annotations: dict[str, str], docker: bool
    ) -> Any:
        found = self.put(*self.image(config, layers, tag, annotations, docker))
        return found if found is not None else multiple()

    @rule(target=MANIFESTS, children=st.lists(MANIFESTS, min_size=1, max_size=3), tag=st.none() | TAGS)
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

    @rule(manifest=MANIFESTS, by_tag=st.booleans(), head=st.booleans())
    def read_manifest(self, manifest: Manifest, by_tag: bool, head: bool) -> None:
        self.read(manifest, by_tag, head)

    @precondition(lambda self: self.env.deletes)
    @rule(manifest=consumes(MANIFESTS))
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
