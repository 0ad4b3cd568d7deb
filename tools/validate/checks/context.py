"""What a check works with: the session, the run's content and shared state, and the assertions that end it."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from registry_spec import urls
from registry_toolkit.validate import clauses
from registry_toolkit.validate.content import Blob, Content, Manifest, sha256
from registry_toolkit.validate.options import Options
from registry_toolkit.validate.outcome import CheckFailed, Skipped, Status, Unsupported
from registry_toolkit.validate.session import Reply, Session, with_query

OCTET = {"Content-Type": "application/octet-stream"}


class Context:
    """Shared by every check of a run; ``store`` carries what one check leaves for the next."""

    def __init__(self, options: Options, session: Session, content: Content) -> None:
        self.options = options
        self.session = session
        self.content = content
        self.namespace = options.namespace
        self.crossmount = options.crossmount
        self.store: dict[str, Any] = {}
        self.statuses: dict[str, Status] = {}
        self.dummy_digest = sha256(b"registry-validate: no such content " + content.token().encode())

    # --- HTTP ---------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        *,
        follow: bool = False,
        chunked: bool = False,
    ) -> Reply:
        return self.session.request(
            method, url, headers=headers, content=content, follow_redirects=follow, chunked=chunked
        )

    def get_blob(self, digest: str, repo: str | None = None, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", urls.blob(repo or self.namespace, digest), headers, follow=True)

    def get_manifest(
        self, reference: str, media_type: str, repo: str | None = None, method: str = "GET"
    ) -> Reply:
        headers = {"Accept": media_type}
        return self.request(method, urls.manifest(repo or self.namespace, reference), headers)

    def start_upload(self, repo: str | None = None) -> Reply:
        reply = self.request("POST", urls.upload_start(repo or self.namespace), {"Content-Length": "0"})
        self.expect_status(reply, 202, what="opening an upload session")
        return reply

    def upload(self, blob: Blob, repo: str | None = None) -> Reply:
        """POST then PUT ?digest= with the whole blob; anything but 201 fails the check."""
        started = self.start_upload(repo)
        reply = self.request("PUT", with_query(started.location, digest=blob.digest), OCTET, blob.data)
        self.expect_status(reply, 201, what=f"completing the upload of {blob.digest}")
        return reply

    def ensure(self, *blobs: Blob, repo: str | None = None) -> None:
        """Push ``blobs`` unless this run already did (same repository)."""
        pushed: set[tuple[str, str]] = self.store.setdefault("pushed", set())
        for blob in blobs:
            key = (repo or self.namespace, blob.digest)
            if key not in pushed:
                self.upload(blob, repo)
                pushed.add(key)

    def put_manifest(self, reference: str, manifest: Manifest, repo: str | None = None) -> Reply:
        return self.request(
            "PUT",
            urls.manifest(repo or self.namespace, reference),
            {"Content-Type": manifest.media_type},
            manifest.content,
        )

    def push_image(self, reference: str, manifest: Manifest, repo: str | None = None) -> Reply:
        """Its blobs, then the manifest; anything but 201 fails the check."""
        self.ensure(*manifest.blobs, repo=repo)
        reply = self.put_manifest(reference, manifest, repo)
        self.expect_status(reply, 201, what=f"putting manifest {manifest.digest} as {reference}")
        return reply

    # --- endings ------------------------------------------------------------------------------------
    def fail(self, message: str, reply: Reply | None = None) -> NoReturn:
        raise CheckFailed(message, reply.exchange if reply else None)

    def unsupported(self, feature: str, message: str, reply: Reply | None = None) -> NoReturn:
        """The registry lacks optional ``feature``: unsupported-optional, or a failure when it is expected."""
        exchange = reply.exchange if reply else None
        if self.options.expects(feature):
            raise CheckFailed(f"{message} (expected with --expect {feature})", exchange)
        raise Unsupported(feature, message, exchange)

    def require(self, *check_ids: str) -> None:
        """Skip unless every check in ``check_ids`` passed."""
        for check_id in check_ids:
            status = self.statuses.get(check_id)
            if status is not Status.PASS:
                ended = status.value if status else "did not run"
                raise Skipped(f"needs {check_id}, which {'ended ' + ended if status else ended}")

    # --- assertions ---------------------------------------------------------------------------------
    def expect(self, condition: bool, message: str, reply: Reply | None = None) -> None:
        if not condition:
            self.fail(message, reply)

    def expect_status(self, reply: Reply, *allowed: int, what: str = "") -> None:
        if reply.status not in allowed:
            wanted = " or ".join(str(s) for s in allowed)
            self.fail(f"expected HTTP {wanted}{' ' + what if what else ''}, got {reply.status}", reply)

    def expect_documented(
        self, reply: Reply, spec_id: str, method: str | None = None, what: str = ""
    ) -> None:
        """The status must be one the descriptor documents as a success of ``spec_id``."""
        self.expect_status(reply, *sorted(clauses.success_statuses(spec_id, method)), what=what)

    def expect_header(self, reply: Reply, name: str, value: str | None = None) -> str:
        found = reply.header(name)
        if found is None:
            self.fail(f"HTTP {reply.status} without a {name} header", reply)
        if value is not None and found != value:
            self.fail(f"{name} is {found!r}, expected {value!r}", reply)
        return found

    def expect_optional_header(self, reply: Reply, name: str, value: str) -> None:
        """When ``name`` is present it must equal ``value``."""
        found = reply.header(name)
        if found is not None and found != value:
            self.fail(f"{name} is {found!r}, expected {value!r}", reply)

    def expect_body(self, reply: Reply, data: bytes, what: str) -> None:
        if reply.content != data:
            self.fail(
                f"{what}: got {len(reply.content)} bytes ({sha256(reply.content)}), "
                f"expected {len(data)} bytes ({sha256(data)})",
                reply,
            )

    def expect_error(
        self, reply: Reply, status: int | tuple[int, ...], *codes: str, envelope: bool = False
    ) -> None:
        """HTTP ``status``; a JSON body (required when ``envelope``) must be the error envelope naming one of ``codes``."""
        allowed = status if isinstance(status, tuple) else (status,)
        self.expect_status(reply, *allowed)
        found = error_codes(reply)
        if found is None:
            if envelope or _looks_json(reply):
                self.fail('the error body is not the registry error envelope {"errors": [...]}', reply)
            return
        unknown = [code for code in found if code not in clauses.KNOWN_CODES]
        if unknown:
            self.fail(f"unknown error code(s) {unknown} in the envelope", reply)
        if codes and not set(found) & set(codes):
            self.fail(f"error codes {found}, expected {' or '.join(codes)}", reply)


def error_codes(reply: Reply) -> list[str] | None:
    """The codes of the error envelope in ``reply``'s body, or None when the body is not one."""
    try:
        document = json.loads(reply.content)
    except ValueError:
        return None
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("errors"), list)
        or not document["errors"]
    ):
        return None
    codes: list[str] = []
    for error in document["errors"]:
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            return None
        if "message" in error and not isinstance(error["message"], str):
            return None
        codes.append(error["code"])
    return codes


def _looks_json(reply: Reply) -> bool:
    content_type = (reply.header("Content-Type") or "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")
