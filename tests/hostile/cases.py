"""The hostile battery as data: each case is raw request bytes, how to send them, and what answer is acceptable.

Placeholders filled in when a case runs: ``{BLOB}`` (the digest of a blob the server has), ``{UPLOAD}`` (the
path and query of a fresh upload session), ``{CREDS}`` (valid Basic credentials for the htpasswd server).

``expect`` is ``"refused"`` (a 4xx, or the connection closed without an answer), ``"any"`` (anything but a 5xx
or a stall), or a set of acceptable statuses (a close is then a failure). Whatever the expectation, no case
may get a 5xx, stall past its bound, or get a 4xx from the application without the registry error envelope.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

REFUSED = "refused"
ANY = "any"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BOUND = 3.0  # seconds: every case is answered or closed within this (timeouts are configured at 1s)
# What the hostile servers are configured with (tests/hostile/conftest.py).
LIMITS = {
    "headertimeout": "1s",
    "idletimeout": "1s",
    "bodytimeout": "1s",
    "maxconnections": 48,
}
USER, PASSWORD = "alice", "wonderland"


@dataclass(frozen=True)
class Case:
    id: str
    parts: tuple[bytes, ...]
    expect: str | frozenset[int] = REFUSED
    server: str = "open"  # "open" (no auth) or "auth" (htpasswd)
    half_close: bool = False
    pause: float = 0.0
    head: bool = False
    timeout: float = BOUND
    codes: frozenset[str] = field(default_factory=frozenset)  # envelope codes, one of which must appear


def req(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
    close: bool = True,
) -> bytes:
    """Request bytes; ``Host`` and ``Connection: close`` unless given. Non-ASCII text is sent as UTF-8."""
    names = {name.lower() for name, _ in headers}
    lines = [f"{method} {target} {version}".encode()]
    if "host" not in names:
        lines.append(b"Host: 127.0.0.1")
    if close and "connection" not in names:
        lines.append(b"Connection: close")
    lines += [f"{name}: {value}".encode("utf-8", "surrogateescape") for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def case(
    id: str,
    payload: bytes | Sequence[bytes],
    expect: str | frozenset[int] = REFUSED,
    *,
    codes: Sequence[str] = (),
    **options: object,
) -> Case:
    parts = (payload,) if isinstance(payload, bytes) else tuple(payload)
    return Case(id, parts, expect, codes=frozenset(codes), **options)  # type: ignore[arg-type]


def statuses(*values: int) -> frozenset[int]:
    return frozenset(values)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --- traversal and invalid repository names ------------------------------------------------------

HOSTILE_NAMES = {
    "dotdot": "..",
    "dotdot2": "../..",
    "dotdot-enc": "%2e%2e",
    "dotdot-enc-slash": "%2e%2e%2f%2e%2e",
    "dotdot-mid": "a/../b",
    "dotdot-mid-enc": "a/%2e%2e/b",
    "etc-passwd-enc": "..%2f..%2f..%2fetc%2fpasswd",
    "double-enc": "%252e%252e%252f",
    "empty-component": "a//b",
    "leading-slash": "/etc/passwd",
    "backslash": "a%5c..%5cb",
    "nul": "a%00b",
    "non-ascii-enc": "%C3%A9t%C3%A9",
    "non-ascii-raw": "été",
    "invalid-utf8": "%FF%FE",
    "uppercase": "Library/Ubuntu",
    "too-long": "a" * 300,
    "many-components": "/".join(["a"] * 200),
    "dot": ".",
    "trailing-dot": "a.",
}


def _names() -> Iterator[Case]:
    manifest = b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","layers":[]}'
    for key, name in HOSTILE_NAMES.items():
        yield case(f"name-{key}-tags", req("GET", f"/v2/{name}/tags/list"))
        yield case(f"name-{key}-upload", req("POST", f"/v2/{name}/blobs/uploads/", [("Content-Length", "0")]))
        yield case(f"name-{key}-blob", req("GET", f"/v2/{name}/blobs/{{BLOB}}"))
        yield case(
            f"name-{key}-manifest-put",
            req(
                "PUT",
                f"/v2/{name}/manifests/v1",
                [("Content-Type", OCI_MANIFEST), ("Content-Length", str(len(manifest)))],
                manifest,
            ),
        )
    yield case(
        "name-non-ascii-envelope",
        req("GET", "/v2/%C3%A9t%C3%A9/tags/list"),
        statuses(400),
        codes=["NAME_INVALID"],
    )
    yield case(
        "name-invalid-utf8-envelope",
        req("GET", "/v2/%FF%FE/tags/list"),
        statuses(400),
        codes=["NAME_INVALID"],
    )


# --- digests --------------------------------------------------------------------------------------

HOSTILE_DIGESTS = {
    "dotdot": "sha256:..",
    "traversal-enc": "sha256:%2e%2e%2f%2e%2e%2fetc",
    "short": "sha256:" + "0" * 63,
    "not-hex": "sha256:" + "g" * 64,
    "uppercase": "sha256:" + "A" * 64,
    "md5": "md5:d41d8cd98f00b204e9800998ecf8427e",
    "huge": "sha256:" + "a" * 4000,
    "no-algorithm": ":" + "a" * 64,
    "dots": "..:..",
    "nul": "sha256:%00" + "a" * 63,
}


def _digests() -> Iterator[Case]:
    for key, digest in HOSTILE_DIGESTS.items():
        yield case(f"digest-{key}-blob-get", req("GET", f"/v2/hostile/blobs/{digest}"))
        yield case(f"digest-{key}-blob-delete", req("DELETE", f"/v2/hostile/blobs/{digest}"))
        yield case(
            f"digest-{key}-complete",
            req("PUT", f"{{UPLOAD}}&digest={digest}", [("Content-Length", "0")]),
        )


# --- upload ids -----------------------------------------------------------------------------------

HOSTILE_UPLOAD_IDS = {
    "dotdot": "..",
    "dotdot-enc": "%2e%2e",
    "traversal-enc": "..%2f..%2f_layers",
    "129-chars": "a" * 129,
    "1KiB": "a" * 1024,
    "16KiB": "a" * 16384,
    "nul": "a%00b",
    "non-ascii": "%C3%A9",
    "invalid-utf8": "%FF",
    "unknown": "0b3e1f2a-0000-4000-8000-000000000000",
}


def _upload_ids() -> Iterator[Case]:
    for key, upload in HOSTILE_UPLOAD_IDS.items():
        target = f"/v2/hostile/blobs/uploads/{upload}"
        yield case(f"upload-{key}-get", req("GET", target))
        yield case(f"upload-{key}-patch", req("PATCH", target, [("Content-Length", "1")], b"x"))
        yield case(f"upload-{key}-put", req("PUT", f"{target}?digest={{BLOB}}", [("Content-Length", "0")]))
    # A write's first body piece is asked for as it enters the fast path, before the session is looked up:
    # refused with the piece still on its way, and with more body than one piece.
    unknown = f"/v2/hostile/blobs/uploads/{HOSTILE_UPLOAD_IDS['unknown']}"
    octets = ("Content-Type", "application/octet-stream")
    yield case(
        "upload-unknown-patch-body-late",
        [req("PATCH", unknown, [("Content-Length", "10"), octets]), b"0123456789"],
        statuses(404),
        pause=0.3,
        codes=["BLOB_UPLOAD_UNKNOWN"],
    )
    big = 3 << 20
    yield case(
        "upload-unknown-patch-3MiB",
        req("PATCH", unknown, [("Content-Length", str(big)), octets], b"x" * big),
        codes=["BLOB_UPLOAD_UNKNOWN"],
    )


# --- oversized and malformed values ---------------------------------------------------------------

BIG = "9" * 5000


def _values() -> Iterator[Case]:
    blob = "/v2/hostile/blobs/{BLOB}"
    yield case("range-5000-digits-start", req("GET", blob, [("Range", f"bytes={BIG}-")]), ANY)
    yield case("range-5000-digits-end", req("GET", blob, [("Range", f"bytes=0-{BIG}")]), ANY)
    yield case("range-5000-digits-suffix", req("GET", blob, [("Range", f"bytes=-{BIG}")]), ANY)
    yield case("range-leading-zeros", req("GET", blob, [("Range", "bytes=" + "0" * 5000 + "1-")]), ANY)
    yield case("range-negative", req("GET", blob, [("Range", "bytes=-1--5")]), ANY)
    yield case("range-multi-1000", req("GET", blob, [("Range", "bytes=" + ",".join(["0-0"] * 1000))]), ANY)
    yield case("range-garbage", req("GET", blob, [("Range", "bytes=\x01\x02")]), ANY)
    for key, value in {
        "5000-digits": f"{BIG}-{BIG}",
        "reversed": "5-1",
        "negative": "-1-5",
        "garbage": "bytes=abc",
        "huge-start": "18446744073709551616-18446744073709551617",
    }.items():
        yield case(
            f"content-range-{key}",
            req("PATCH", "{UPLOAD}", [("Content-Range", value), ("Content-Length", "1")], b"x"),
        )
    total = req("PATCH", "{UPLOAD}", [("Content-Range", f"bytes 0-0/{BIG}"), ("Content-Length", "1")], b"x")
    yield case("content-range-5000-digits-total", total, ANY)  # a valid first byte of a huge total
    yield case("n-5000-digits", req("GET", f"/v2/hostile/tags/list?n={BIG}"), ANY)
    yield case("n-negative", req("GET", "/v2/hostile/tags/list?n=-1"))
    yield case("n-letters", req("GET", "/v2/_catalog?n=abc"))
    yield case("n-unicode-digit", req("GET", "/v2/_catalog?n=%C2%B2"))
    yield case("n-float", req("GET", "/v2/_catalog?n=1.5"))
    yield case("last-huge", req("GET", "/v2/_catalog?last=" + "a" * 6000), ANY)
    yield case(
        "accept-1000-types",
        req("GET", "/v2/hostile/manifests/v1", [("Accept", ", ".join(["a/b"] * 1000))]),
        ANY,
    )
    yield case(
        "content-type-garbage",
        req(
            "PUT", "/v2/hostile/manifests/v1", [("Content-Type", "\x7f;;;="), ("Content-Length", "2")], b"{}"
        ),
    )
    yield case(
        "manifest-not-json",
        req(
            "PUT",
            "/v2/hostile/manifests/v1",
            [("Content-Type", OCI_MANIFEST), ("Content-Length", "3")],
            b"\xff\xfe\x00",
        ),
    )
    deep = b"[" * 100000 + b"]" * 100000
    yield case(
        "manifest-deep-nesting",
        req(
            "PUT",
            "/v2/hostile/manifests/v1",
            [("Content-Type", OCI_MANIFEST), ("Content-Length", str(len(deep)))],
            deep,
        ),
    )
    yield case(
        "manifest-5MiB",
        req(
            "PUT",
            "/v2/hostile/manifests/v1",
            [("Content-Type", OCI_MANIFEST), ("Content-Length", str(5 << 20))],
            b"{" * (5 << 20),
        ),
        statuses(413),
    )
    yield case(
        "headers-8MiB",
        req("GET", "/v2/", [(f"X-H{i}", "v" * 8000) for i in range(1024)]),
        statuses(431) | {400},
        timeout=5.0,
    )
    yield case("header-70KiB", req("GET", "/v2/", [("X-Big", "v" * 70000)]), statuses(431, 400))
    yield case("headers-101", req("GET", "/v2/", [(f"X-H{i}", "v") for i in range(101)]), statuses(431, 400))
    yield case(
        "headers-1000", req("GET", "/v2/", [(f"X-H{i}", "v") for i in range(1000)]), statuses(431, 400)
    )
    yield case("request-line-16KiB", req("GET", "/v2/" + "a" * 16384 + "/tags/list"), statuses(414, 400, 431))
    yield case("query-9KiB", req("GET", "/v2/_catalog?last=" + "a" * 9000), statuses(414, 400, 431))
    yield case("authorization-60KiB", req("GET", "/v2/", [("Authorization", "Bearer " + "a" * 60000)]), ANY)
    yield case("content-length-negative", req("PATCH", "{UPLOAD}", [("Content-Length", "-1")], b"x"))
    yield case("content-length-letters", req("PATCH", "{UPLOAD}", [("Content-Length", "abc")], b"x"))
    yield case("content-length-5000-digits", req("PATCH", "{UPLOAD}", [("Content-Length", BIG)], b"x"))
    yield case(
        "content-length-conflicting",
        req("PATCH", "{UPLOAD}", [("Content-Length", "1"), ("Content-Length", "2")], b"xy"),
    )
    yield case("content-length-list", req("PATCH", "{UPLOAD}", [("Content-Length", "1, 2")], b"xy"))


# --- framing --------------------------------------------------------------------------------------


def _framing() -> Iterator[Case]:
    short = [("Content-Length", "100"), ("Content-Type", "application/octet-stream")]
    yield case("body-shorter-then-fin", req("PATCH", "{UPLOAD}", short, b"0123456789"), half_close=True)
    yield case("body-shorter-then-wait", req("PATCH", "{UPLOAD}", short, b"0123456789"), statuses(408))
    huge = [("Content-Length", str(2**63 - 1))]
    yield case("content-length-2^63-1-fin", req("PATCH", "{UPLOAD}", huge, b"x"), half_close=True)
    yield case("content-length-2^63-1-wait", req("PATCH", "{UPLOAD}", huge, b"x"), statuses(408))
    yield case("content-length-2^64", req("PATCH", "{UPLOAD}", [("Content-Length", str(2**64))], b"x"))
    manifest = [("Content-Length", "100"), ("Content-Type", OCI_MANIFEST)]
    yield case(
        "manifest-shorter-then-fin", req("PUT", "/v2/hostile/manifests/v1", manifest, b"{"), half_close=True
    )
    yield case(
        "manifest-shorter-then-wait", req("PUT", "/v2/hostile/manifests/v1", manifest, b"{"), statuses(408)
    )
    yield case(
        "blob-post-shorter-then-fin",
        req("POST", "/v2/hostile/blobs/uploads/?digest={BLOB}", short, b"x"),
        half_close=True,
    )
    for key, value in {
        "bogus": "bogus",
        "gzip-chunked-bogus": "gzip, chunked, bogus",
        "chunked-twice": "chunked, chunked",
        "chunked-then-gzip": "chunked, gzip",
        "identity": "identity",
        "space": " chunked",
        "vertical-tab": "\x0bchunked",
    }.items():
        yield case(
            f"transfer-encoding-{key}",
            req("PATCH", "{UPLOAD}", [("Transfer-Encoding", value)], b"1\r\nx\r\n0\r\n\r\n"),
            ANY,
        )
    chunked = [("Transfer-Encoding", "chunked")]
    yield case(
        "te-and-content-length",
        req("PATCH", "{UPLOAD}", [*chunked, ("Content-Length", "3")], b"1\r\nx\r\n0\r\n\r\n"),
        ANY,
    )
    yield case("chunk-size-garbage", req("PATCH", "{UPLOAD}", chunked, b"zz\r\nx\r\n0\r\n\r\n"))
    yield case("chunk-size-huge", req("PATCH", "{UPLOAD}", chunked, b"ffffffffffffffffff\r\nx\r\n"))
    yield case("chunk-size-5000-digits", req("PATCH", "{UPLOAD}", chunked, b"1" * 5000 + b"\r\nx\r\n"))
    yield case("chunked-no-terminator-fin", req("PATCH", "{UPLOAD}", chunked, b"1\r\nx\r\n"), half_close=True)
    yield case("chunked-no-terminator-wait", req("PATCH", "{UPLOAD}", chunked, b"1\r\nx\r\n"), statuses(408))
    yield case(
        "chunk-extension-huge",
        req("PATCH", "{UPLOAD}", chunked, b"1;" + b"a" * 100000 + b"\r\nx\r\n0\r\n\r\n"),
        ANY,
    )
    yield case("bare-lf", b"GET /v2/ HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n", ANY)
    yield case("header-no-colon", b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHere\r\n\r\n")
    yield case(
        "header-space-before-colon",
        b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A : b\r\nConnection: close\r\n\r\n",
    )
    yield case(
        "header-obs-fold",
        b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b\r\n c\r\nConnection: close\r\n\r\n",
        ANY,
    )
    yield case(
        "header-nul", b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b\x00c\r\nConnection: close\r\n\r\n"
    )
    yield case(
        "header-bare-cr", b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b\rc\r\nConnection: close\r\n\r\n"
    )
    yield case("header-name-utf8", req("GET", "/v2/", [("X-Été", "b")]))


# --- protocol violations --------------------------------------------------------------------------


def _protocol() -> Iterator[Case]:
    yield case("http-0.9", b"GET /v2/\r\n")
    yield case("http-0.9-blank-line", b"GET /v2/\r\n\r\n")
    yield case("http-2.0-line", req("GET", "/v2/", version="HTTP/2.0"))
    yield case("http-1.2-line", req("GET", "/v2/", version="HTTP/1.2"), ANY)
    yield case("http-9.9-line", req("GET", "/v2/", version="HTTP/9.9"))
    yield case("http-version-garbage", req("GET", "/v2/", version="HTTX/1.1"))
    yield case("h2-prior-knowledge-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    yield case(
        "h2c-upgrade",
        req(
            "GET",
            "/v2/",
            [
                ("Connection", "Upgrade, HTTP2-Settings"),
                ("Upgrade", "h2c"),
                ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"),
            ],
        ),
        ANY,
    )
    yield case(
        "websocket-upgrade",
        req(
            "GET",
            "/v2/",
            [
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
            ],
        ),
        ANY,
    )
    yield case("connect-authority", req("CONNECT", "example.com:443"))
    yield case("connect-path", req("CONNECT", "/v2/"))
    yield case("options-star", req("OPTIONS", "*"))
    yield case("options-path", req("OPTIONS", "/v2/"), ANY)
    yield case("trace", req("TRACE", "/v2/"))
    yield case("unknown-method", req("FOO", "/v2/"))
    yield case("lowercase-method", req("get", "/v2/"))
    yield case("method-1KiB", req("A" * 1024, "/v2/"))
    yield case("absolute-form", req("GET", "http://evil.example/v2/"), ANY)
    yield case("absolute-form-traversal", req("GET", "http://evil.example/v2/../../etc/passwd"))
    yield case("no-host-http-1.1", b"GET /v2/ HTTP/1.1\r\nConnection: close\r\n\r\n", ANY)
    yield case("duplicate-host", req("GET", "/v2/", [("Host", "a"), ("Host", "b")]), ANY)
    yield case("host-with-path", req("GET", "/v2/", [("Host", "evil/../x")]), ANY)
    yield case("fragment-in-target", req("GET", "/v2/#frag"), ANY)
    yield case("target-without-slash", req("GET", "v2/"))
    yield case("garbage-bytes", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)))
    yield case(
        "tls-client-hello",
        bytes.fromhex(
            "160301002d0100002903035a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a00000213010100"
        ),
    )
    yield case("only-crlf", b"\r\n\r\n\r\n\r\n")
    yield case(
        "expect-100-no-body",
        req("PATCH", "{UPLOAD}", [("Expect", "100-continue"), ("Content-Length", "5")]),
        statuses(408, 400, 417),
    )
    yield case("expect-unknown", req("GET", "/v2/", [("Expect", "teapot")]), ANY)
    yield case("idle-connection", b"")
    yield case(
        "slowloris-headers",
        [b"GET /v2/ HTTP/1.1\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n", b"X-C: 3\r\n", b"X-D: 4\r\n"],
        pause=0.4,
    )
    yield case("slow-request-line", [b"G", b"E", b"T", b" ", b"/", b"v", b"2"], pause=0.25)
    pipelined = req("GET", "/v2/", close=False) * 3 + req("GET", "/v2/")
    yield case("pipelined", pipelined, ANY)
    yield case("keepalive-then-silence", req("GET", "/v2/", close=False), ANY)


# --- duplicate and odd parameters -----------------------------------------------------------------


def _parameters() -> Iterator[Case]:
    yield case("n-twice", req("GET", "/v2/_catalog?n=1&n=2"), ANY)
    yield case("n-twice-conflicting", req("GET", "/v2/hostile/tags/list?n=1&n=abc"), ANY)
    yield case("last-twice", req("GET", "/v2/_catalog?last=&last=a"), ANY)
    yield case(
        "digest-twice-complete",
        req("PUT", "{UPLOAD}&digest={BLOB}&digest=sha256:" + "0" * 64, [("Content-Length", "0")]),
        ANY,
    )
    yield case(
        "mount-twice",
        req(
            "POST",
            "/v2/hostile/blobs/uploads/?mount={BLOB}&mount=sha256:" + "1" * 64 + "&from=a&from=b",
            [("Content-Length", "0")],
        ),
        ANY,
    )
    yield case(
        "mount-traversal-from",
        req("POST", "/v2/hostile/blobs/uploads/?mount={BLOB}&from=../../etc", [("Content-Length", "0")]),
        ANY,
    )
    yield case(
        "state-garbage",
        req(
            "PATCH",
            "/v2/hostile/blobs/uploads/0b3e1f2a-0000-4000-8000-000000000000?_state=%00%FF",
            [("Content-Length", "1")],
            b"x",
        ),
    )
    yield case("n-nul", req("GET", "/v2/_catalog?n=%00"))
    yield case(
        "query-2000-params", req("GET", "/v2/_catalog?" + "&".join(f"p{i}=1" for i in range(2000))), ANY
    )
    yield case("query-only-separators", req("GET", "/v2/_catalog?&&&&=&="), ANY)
    yield case("query-no-value", req("GET", "/v2/_catalog?n"), ANY)
    yield case("path-params-semicolon", req("GET", "/v2/hostile;x=1/tags/list"))
    yield case("query-invalid-utf8", req("GET", "/v2/_catalog?last=%FF%FE"), ANY)
    yield case(
        "artifact-type-huge", req("GET", "/v2/hostile/referrers/{BLOB}?artifactType=" + "a" * 7000), ANY
    )


# --- authentication (the htpasswd server) ---------------------------------------------------------


def _auth() -> Iterator[Case]:
    def auth_case(
        id: str, value: str | None, target: str = "/v2/", expect: str | frozenset[int] = statuses(401)
    ) -> Case:
        headers = [] if value is None else [("Authorization", value)]
        return case(f"auth-{id}", req("GET", target, headers), expect, server="auth")

    yield auth_case("none", None)
    yield auth_case("basic-garbage-base64", "Basic !!!not-base64!!!", expect=statuses(400, 401))
    yield auth_case(
        "basic-no-colon", "Basic " + base64.b64encode(b"alice").decode(), expect=statuses(400, 401)
    )
    yield auth_case("basic-empty-user", basic("", PASSWORD))
    yield auth_case("basic-wrong-password", basic(USER, "nope"))
    yield auth_case("basic-unknown-user", basic("mallory", PASSWORD))
    yield auth_case("basic-nul-user", basic("alice\x00", PASSWORD))
    yield auth_case("basic-utf8", basic("élise", "pässword"))
    yield auth_case(
        "basic-invalid-utf8",
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        expect=statuses(400, 401),
    )
    yield auth_case("basic-huge", "Basic " + "A" * 50000, expect=statuses(400, 401, 431))
    yield auth_case("scheme-only", "Basic")
    yield auth_case("bearer-garbage", "Bearer not.a.token", expect=statuses(400, 401))
    yield auth_case(
        "bearer-alg-none", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", expect=statuses(400, 401)
    )
    yield auth_case("unknown-scheme", "Digest username=alice")
    yield auth_case("lowercase-scheme-wrong", "basic " + base64.b64encode(b"alice:nope").decode())
    yield auth_case("catalog-wrong-password", basic(USER, "nope"), "/v2/_catalog")
    yield auth_case("traversal-name-no-creds", None, "/v2/../../etc/passwd/tags/list", REFUSED)
    yield auth_case("traversal-name-with-creds", "{CREDS}", "/v2/%2e%2e/tags/list", REFUSED)
    yield auth_case("valid", "{CREDS}", expect=statuses(200))
    yield case(
        "auth-two-headers",
        req("GET", "/v2/", [("Authorization", "{CREDS}"), ("Authorization", basic(USER, "nope"))]),
        statuses(200, 400, 401),
        server="auth",
    )
    yield case(
        "auth-upload-wrong-password",
        req(
            "POST",
            "/v2/hostile/blobs/uploads/",
            [("Authorization", basic(USER, "nope")), ("Content-Length", "0")],
        ),
        statuses(401),
        server="auth",
    )


def all_cases() -> list[Case]:
    cases = [
        *_names(),
        *_digests(),
        *_upload_ids(),
        *_values(),
        *_framing(),
        *_protocol(),
        *_parameters(),
        *_auth(),
    ]
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate case ids: {sorted(duplicates)}"
    return cases


CASES = all_cases()
