"""What each ``dist`` subcommand does, given parsed arguments; output goes to stdout, progress to stderr."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from registry_client import Credential, Manifest, RegistryClient
from registry_client.descriptors import Descriptor, Platform
from registry_client.errors import ClientError, RegistryError
from registry_client.references import ImageReference, parse_reference

from .context import Context
from .copy import CopyResult, Selection, copy_image, select
from .formats import render
from .progress import Progress, human_size
from .referrers import copy_referrers
from .stores import Location, RegistryStore, Store, StoreError, parse_location

__all__ = ["COMMANDS", "Context"]


def _selection(args: argparse.Namespace) -> Selection:
    platform = Platform.parse(args.platform) if getattr(args, "platform", None) else None
    return Selection(all_platforms=bool(getattr(args, "all", False)), platform=platform)


def _destination(ctx: Context, text: str, source: Store) -> Store:
    return _destination_at(ctx, text, source, "dest")


def _destination_at(ctx: Context, text: str, source: Store, role: str) -> Store:
    location = parse_location(text)
    if location.kind == "registry" and location.reference is not None:
        ref = location.reference
        if ref.tag is None and ref.digest is None:
            source_name = source.name()
            tag = source_name.rpartition(":")[2] if source_name else None
            location = Location("registry", reference=ref.with_tag(tag) if tag else ref)
    elif location.kind == "oci" and location.tag is None and (name := source.name()):
        location = Location("oci", path=location.path, tag=name.rpartition(":")[2])
    return ctx.store(location, role)


def wants_referrers(args: argparse.Namespace, source: Store, destination: Store) -> bool:
    """On by default between two registries; ``--referrers`` elsewhere is an error, ``--no-referrers`` opts out."""
    both = isinstance(source, RegistryStore) and isinstance(destination, RegistryStore)
    asked = getattr(args, "referrers", None)
    if asked and not both:
        raise StoreError("--referrers copies between two registries only")
    return both if asked is None else bool(asked)


def copy_with_referrers(
    ctx: Context, source: Store, destination: Store, selection: Selection, progress: Progress
) -> CopyResult:
    """``copy_image``, then (between registries, unless ``--no-referrers``) every referrer of what was copied."""
    result = copy_image(source, destination, selection, jobs=ctx.args.jobs, progress=progress)
    if wants_referrers(ctx.args, source, destination):
        assert isinstance(source, RegistryStore) and isinstance(destination, RegistryStore)
        followed = copy_referrers(
            source, destination, result.manifest_digests, jobs=ctx.args.jobs, progress=progress
        )
        result.referrers = followed.digests
        result.bytes += followed.bytes
    return result


def cmd_copy(ctx: Context) -> int:
    args = ctx.args
    if args.all and args.platform:
        raise StoreError("--all and --platform exclude each other")
    if args.all_tags:
        from .mirror import copy_all_tags

        return copy_all_tags(ctx)
    source = ctx.store(parse_location(args.source), "src")
    destination = _destination(ctx, args.destination, source)
    result = copy_with_referrers(ctx, source, destination, _selection(args), ctx.progress())
    if args.json or not args.quiet:
        ctx.emit(result.to_json(source.describe(), destination.describe()), result.digest)
    return 0


def _chosen(ctx: Context, store: Store) -> Manifest:
    root = store.root()
    if ctx.args.platform and root.is_index:
        return select(store, root, _selection(ctx.args))[-1]
    return root


def cmd_digest(ctx: Context) -> int:
    """The digest of the manifest the reference names, hashed from its bytes: a registry's Docker-Content-Digest
    header is checked against them (a mismatch is an error), never printed on trust."""
    digest = _chosen(ctx, ctx.store(parse_location(ctx.args.reference))).digest
    ctx.emit({"digest": digest}, digest)
    return 0


def cmd_manifest(ctx: Context) -> int:
    manifest = _chosen(ctx, ctx.store(parse_location(ctx.args.reference)))
    sys.stdout.buffer.write(manifest.content)
    if not manifest.content.endswith(b"\n") and sys.stdout.isatty():
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    return 0


def cmd_inspect(ctx: Context) -> int:
    store = ctx.store(parse_location(ctx.args.reference))
    manifest = _chosen(ctx, store)
    info: dict[str, Any] = {
        "name": store.describe(),
        "digest": manifest.digest,
        "mediaType": manifest.media_type,
    }
    if manifest.is_index:
        info["manifests"] = [_child(d) for d in manifest.manifests]
    else:
        info.update(_image(store, manifest))
    text = render(ctx.args.format, info) if ctx.args.format else _inspect_text(info)
    ctx.emit(info, text)
    return 0


def _child(descriptor: Descriptor) -> dict[str, Any]:
    return {
        "digest": descriptor.digest,
        "mediaType": descriptor.media_type,
        "size": descriptor.size,
        "platform": str(descriptor.platform) if descriptor.platform else None,
    }


def _image(store: Store, manifest: Manifest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    config = manifest.config
    if config is not None:
        out["config"] = {"digest": config.digest, "mediaType": config.media_type, "size": config.size}
        if config.size <= 1 << 20 and "json" in config.media_type:
            try:
                document = json.loads(b"".join(store.opener(config)(0)))
                platform = Platform.from_json(document)
                out.update(platform=str(platform), created=document.get("created"))
            except (ValueError, ClientError, StoreError, AttributeError):
                pass
    out["layers"] = [{"digest": d.digest, "mediaType": d.media_type, "size": d.size} for d in manifest.layers]
    out["size"] = sum(d.size for d in manifest.blobs) + len(manifest.content)
    if manifest.subject is not None:
        out["subject"] = manifest.subject.digest
    if artifact_type := manifest.document.get("artifactType"):
        out["artifactType"] = artifact_type
    return out


def _inspect_text(info: dict[str, Any]) -> str:
    lines = [
        f"Name:       {info['name']}",
        f"Digest:     {info['digest']}",
        f"MediaType:  {info['mediaType']}",
    ]
    if "manifests" in info:
        lines.append("Manifests:")
        lines += [
            f"  {m['digest']}  {m['platform'] or '-':<16} {human_size(m['size'])}" for m in info["manifests"]
        ]
        return "\n".join(lines)
    for key, label in (
        ("platform", "Platform"),
        ("created", "Created"),
        ("artifactType", "Artifact"),
        ("subject", "Subject"),
    ):
        if info.get(key):
            lines.append(f"{label + ':':<11} {info[key]}")
    if "config" in info:
        lines.append(f"Config:     {info['config']['digest']}")
    lines.append(f"Size:       {human_size(info['size'])}")
    lines.append("Layers:")
    lines += [
        f"  {layer['digest']}  {human_size(layer['size']):>10}  {layer['mediaType']}"
        for layer in info["layers"]
    ]
    return "\n".join(lines)


def _registry_ref(text: str) -> ImageReference:
    return parse_reference(text.removeprefix("docker://"))


def cmd_ls(ctx: Context) -> int:
    ref = _registry_ref(ctx.args.repository)
    tags = ctx.client(ref.host).tags.list(ref.repository, page_size=ctx.args.page_size)
    if ctx.args.format:
        text = "\n".join(render(ctx.args.format, {"tag": t, "repository": ref.repository_ref}) for t in tags)
        ctx.emit(tags, text)
    else:
        ctx.emit(tags)
    return 0


def cmd_catalog(ctx: Context) -> int:
    repositories = ctx.client(ctx.args.host.removeprefix("docker://").rstrip("/")).catalog.list(
        ctx.args.page_size
    )
    ctx.emit(repositories)
    return 0


def cmd_delete(ctx: Context) -> int:
    ref = _registry_ref(ctx.args.reference)
    client = ctx.client(ref.host)
    if ctx.args.tag:
        if ref.tag is None or ref.digest is not None:
            raise StoreError("delete --tag needs host/repository:tag")
        client.manifests.delete(ref.repository, ref.tag)
        ctx.emit({"deleted": str(ref)}, f"Deleted tag {ref}")
        return 0
    digest = ref.digest or client.manifests.resolve(ref.repository, ref.reference).digest
    client.manifests.delete(ref.repository, digest)
    ctx.emit({"deleted": f"{ref.repository_ref}@{digest}"}, f"Deleted {ref.repository_ref}@{digest}")
    return 0


def cmd_blob_get(ctx: Context) -> int:
    ref = _registry_ref(ctx.args.reference)
    if ref.digest is None:
        raise StoreError("blob get needs host/repository@digest")
    client, progress = ctx.client(ref.host, "src"), ctx.progress()
    size = client.blobs.exists(ref.repository, ref.digest)
    progress.begin(f"Fetching {ref.digest[:19]}", max(size or 0, 0), 1)
    if ctx.args.output in (None, "-"):
        written = client.blobs.download(ref.repository, ref.digest, sys.stdout.buffer, progress.advance)
        sys.stdout.flush()
    else:
        written = _download_to(client, ref, Path(ctx.args.output), progress)
    progress.end()
    if ctx.args.output not in (None, "-"):
        ctx.emit({"digest": ref.digest, "size": written, "path": ctx.args.output}, ctx.args.output)
    return 0


def _download_to(client: RegistryClient, ref: ImageReference, path: Path, progress: Progress) -> int:
    tmp = path.with_name(f".{path.name}.part")
    try:
        with open(tmp, "wb") as out:
            written = client.blobs.download(ref.repository, str(ref.digest), out, progress.advance)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return written


def cmd_blob_put(ctx: Context) -> int:
    ref = _registry_ref(ctx.args.repository)
    client, progress = ctx.client(ref.host, "dest"), ctx.progress()
    path = Path(ctx.args.file)
    progress.begin(f"Pushing {path.name}", path.stat().st_size, 1)
    digest = client.blobs.upload_file(ref.repository, path, progress.advance)
    progress.end()
    ctx.emit({"digest": digest, "size": path.stat().st_size}, digest)
    return 0


def cmd_login(ctx: Context) -> int:
    args = ctx.args
    host = args.host.removeprefix("docker://").removeprefix("https://").removeprefix("http://").rstrip("/")
    username = args.username or input("Username: ")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = args.password if args.password is not None else getpass.getpass("Password: ")
    credential = Credential(username=username, password=password)
    with RegistryClient.for_host(host, insecure=args.insecure, credentials=credential) as client:
        try:
            client.ping()
        except RegistryError as exc:
            if exc.status in (401, 403):
                raise ClientError(f"login to {host} failed: {exc}") from exc
            raise
    ctx.docker_config.store(host, credential)
    ctx.emit({"host": host, "stored": str(ctx.docker_config.path)}, "Login Succeeded")
    return 0


def cmd_logout(ctx: Context) -> int:
    host = ctx.args.host.removeprefix("docker://").rstrip("/")
    removed = ctx.docker_config.erase(host)
    ctx.emit(
        {"host": host, "removed": removed},
        f"Removed login credentials for {host}" if removed else f"Not logged in to {host}",
    )
    return 0


COMMANDS = {
    "copy": cmd_copy,
    "inspect": cmd_inspect,
    "digest": cmd_digest,
    "manifest": cmd_manifest,
    "ls": cmd_ls,
    "catalog": cmd_catalog,
    "delete": cmd_delete,
    "blob get": cmd_blob_get,
    "blob put": cmd_blob_put,
    "login": cmd_login,
    "logout": cmd_logout,
}
