"""Access control with real clients and real processes: skopeo and oras-py against htpasswd, token auth from
``registry-token-server`` over TLS, mutual TLS and minimum TLS versions, under granian and uvicorn."""

from __future__ import annotations

import hashlib
import os
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from testkit.oci_layout import OciLayout
from testkit.processes import Server, Spawner
from testkit.skopeo import Skopeo
from testkit.tls import CertificateAuthority, Issued
from testkit.token_server import (
    ISSUER,
    realm,
    signing_certificate,
    start_token_server,
    token_server_command,
    write_htpasswd,
)

USERS = {"alice": "alice-pw", "bob": "bob-pw"}
ACL = [
    {"account": "alice", "repository": "**", "actions": ["*"]},
    {"account": "bob", "repository": "**", "actions": ["pull"]},
]
SERVICE = "interop-registry"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> OciLayout:
    built = OciLayout(tmp_path_factory.mktemp("layout") / "src", seed=6)
    built.add_image("app", layers=2)
    return built


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def server_cert(ca: CertificateAuthority) -> Issued:
    return ca.issue("server", hosts=("127.0.0.1", "localhost"))


def skopeo_fails(skopeo: Skopeo, *args: str) -> str:
    done = skopeo.run(*args, check=False)
    assert done.returncode != 0, f"skopeo {' '.join(args)} unexpectedly succeeded"
    return done.stderr.decode(errors="replace")


def tls_overrides(cert: Issued, **extra: Any) -> dict[str, Any]:
    return {"http": {"tls": {"certificate": str(cert.cert_path), "key": str(cert.key_path), **extra}}}


# --- htpasswd over plain HTTP ---------------------------------------------------------------------
@pytest.fixture
def htpasswd_server(spawn: Spawner, tmp_path: Path) -> Server:
    users = write_htpasswd(tmp_path / "users.htpasswd", USERS)
    return spawn.ours(
        "htpasswd", {"auth": {"htpasswd": {"realm": "Interop Realm", "path": str(users)}}}, workers=2
    )


def test_skopeo_with_htpasswd_credentials(htpasswd_server: Server, skopeo: Skopeo, layout: OciLayout) -> None:
    dest = htpasswd_server.ref("auth/app", "v1")
    src = f"oci:{layout.path}:app"
    flags = ["--src-tls-verify=false", "--dest-tls-verify=false"]
    skopeo.run("copy", *flags, "--dest-creds", "alice:alice-pw", src, dest)
    inspected = skopeo.run("inspect", "--tls-verify=false", "--creds", "bob:bob-pw", "--raw", dest).stdout
    assert inspected == layout.manifest("app")[1]

    wrong = skopeo_fails(
        skopeo, "copy", *flags, "--dest-creds", "alice:nope", src, htpasswd_server.ref("auth/app", "v2")
    )
    assert "unauthorized" in wrong.lower() or "authentication required" in wrong.lower()
    skopeo_fails(skopeo, "copy", *flags, src, htpasswd_server.ref("auth/app", "v3"))
    skopeo_fails(skopeo, "inspect", "--tls-verify=false", "--creds", "mallory:alice-pw", dest)
    with htpasswd_server.client() as client:
        assert client.get("/v2/auth/app/tags/list").status_code == 401
        assert client.get("/v2/auth/app/tags/list", auth=("alice", "alice-pw")).json()["tags"] == ["v1"]


def test_oras_with_htpasswd_credentials(htpasswd_server: Server, tmp_path: Path) -> None:
    oras_client = pytest.importorskip("oras.client", reason="oras-py is not installed (pip install oras)")
    (tmp_path / "notes.txt").write_bytes(b"guarded notes\n")
    target = f"{htpasswd_server.host}/auth/oras:v1"
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        good = oras_client.OrasClient(hostname=htpasswd_server.host, insecure=True, auth_backend="basic")
        good.auth.set_basic_auth("alice", "alice-pw")
        assert good.push(target=target, files=["notes.txt"], disable_path_validation=True).status_code == 201
        pulled = good.pull(target=target, outdir=str(tmp_path / "out"))
        assert [Path(p).read_bytes() for p in pulled] == [b"guarded notes\n"]

        bad = oras_client.OrasClient(hostname=htpasswd_server.host, insecure=True, auth_backend="basic")
        bad.auth.set_basic_auth("alice", "wrong")
        with pytest.raises(Exception):  # noqa: B017 - oras-py raises whatever requests or its checks raise
            bad.pull(target=target, outdir=str(tmp_path / "denied"))
        assert not (tmp_path / "denied" / "notes.txt").exists()
    finally:
        os.chdir(cwd)


# --- token auth over TLS --------------------------------------------------------------------------
@pytest.fixture
def token_server(spawn: Spawner, tmp_path: Path, ca: CertificateAuthority, server_cert: Issued) -> Server:
    if token_server_command() is None:
        pytest.skip("the `registry-token-server` console script is not installed (pip install -e .)")
    server = start_token_server(
        tmp_path / "token-server",
        users=USERS,
        acl=ACL,
        service=SERVICE,
        tls=server_cert,
        verify=str(ca.cert_path),
    )
    spawn.servers.append(server)  # stopped with the test's servers, its log attached on failure
    return server


def token_auth(token_server: Server) -> dict[str, Any]:
    return {
        "auth": {
            "token": {
                "realm": realm(token_server),
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(signing_certificate(token_server)),
            }
        }
    }


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_skopeo_with_token_auth_over_tls(
    spawn: Spawner,
    token_server: Server,
    ca: CertificateAuthority,
    server_cert: Issued,
    skopeo: Skopeo,
    layout: OciLayout,
    tmp_path: Path,
    server: str,
) -> None:
    overrides = {**tls_overrides(server_cert), **token_auth(token_server)}
    registry = spawn.ours("token", overrides, server=server, scheme="https", verify=str(ca.cert_path))
    certs = str(ca.cert_dir(tmp_path / "certs"))
    src, dest = f"oci:{layout.path}:app", registry.ref("token/app", "v1")

    skopeo.run(
        "copy",
        "--src-tls-verify=false",
        "--dest-cert-dir",
        certs,
        "--dest-creds",
        "alice:alice-pw",
        src,
        dest,
    )
    raw = skopeo.run("inspect", "--cert-dir", certs, "--creds", "bob:bob-pw", "--raw", dest).stdout
    assert raw == layout.manifest("app")[1]
    tags = skopeo.run(
        "list-tags", "--cert-dir", certs, "--creds", "bob:bob-pw", f"docker://{registry.host}/token/app"
    ).stdout
    assert b'"v1"' in tags

    # bob may pull but not push; wrong passwords get no token at all; without the CA nothing connects.
    skopeo_fails(
        skopeo,
        "copy",
        "--src-tls-verify=false",
        "--dest-cert-dir",
        certs,
        "--dest-creds",
        "bob:bob-pw",
        src,
        registry.ref("token/app", "v2"),
    )
    skopeo_fails(skopeo, "inspect", "--cert-dir", certs, "--creds", "bob:wrong", dest)
    untrusted = skopeo_fails(skopeo, "inspect", "--creds", "bob:bob-pw", dest)
    assert "certificate" in untrusted.lower()

    with registry.client() as client:
        r = client.get("/v2/token/app/tags/list")
        assert r.status_code == 401
        challenge = r.headers["WWW-Authenticate"]
        assert (
            challenge
            == f'Bearer realm="{realm(token_server)}",service="{SERVICE}",scope="repository:token/app:pull"'
        )


def test_the_reference_registry_accepts_our_tokens(
    spawn: Spawner,
    token_server: Server,
    ca: CertificateAuthority,
    skopeo: Skopeo,
    layout: OciLayout,
    tmp_path: Path,
) -> None:
    """distribution 2.8.2 verifies what registry-token-server issues (x5c chain, claims, access)."""
    reference = spawn.reference("reference", token_auth(token_server))
    certs = str(ca.cert_dir(tmp_path / "certs"))
    dest = reference.ref("token/ref", "v1")
    flags = ["--src-tls-verify=false", "--dest-tls-verify=false", "--dest-cert-dir", certs]
    skopeo.run("copy", *flags, "--dest-creds", "alice:alice-pw", f"oci:{layout.path}:app", dest)
    raw = skopeo.run(
        "inspect", "--tls-verify=false", "--cert-dir", certs, "--creds", "bob:bob-pw", "--raw", dest
    ).stdout
    assert raw == layout.manifest("app")[1]
    skopeo_fails(
        skopeo,
        "copy",
        *flags,
        "--dest-creds",
        "bob:bob-pw",
        f"oci:{layout.path}:app",
        reference.ref("token/ref", "v2"),
    )


def test_oras_pulls_with_token_auth_over_tls(
    spawn: Spawner,
    token_server: Server,
    ca: CertificateAuthority,
    server_cert: Issued,
    skopeo: Skopeo,
    layout: OciLayout,
    tmp_path: Path,
) -> None:
    """oras-py fetches a token from the realm with Basic credentials and pulls.

    (It keeps the first token it got and asks again only after a 403, so a push that starts with a
    pull-scoped read cannot upgrade to push against distribution's 401 insufficient_scope — ours or
    the reference alike; the push here is skopeo's.)
    """
    oras_client = pytest.importorskip("oras.client", reason="oras-py is not installed (pip install oras)")
    overrides = {**tls_overrides(server_cert), **token_auth(token_server)}
    registry = spawn.ours("token-oras", overrides, scheme="https", verify=str(ca.cert_path))
    certs = str(ca.cert_dir(tmp_path / "certs"))
    dest = registry.ref("token/oras", "v1")
    skopeo.run(
        "copy",
        "--src-tls-verify=false",
        "--dest-cert-dir",
        certs,
        "--dest-creds",
        "alice:alice-pw",
        f"oci:{layout.path}:app",
        dest,
    )

    reader = oras_client.OrasClient(hostname=registry.host, tls_verify=str(ca.cert_path))
    reader.auth.set_basic_auth("bob", "bob-pw")
    assert reader.get_tags(f"{registry.host}/token/oras") == ["v1"]
    manifest = reader.get_manifest(f"{registry.host}/token/oras:v1")
    container = reader.get_container(f"{registry.host}/token/oras:v1")
    layer = manifest["layers"][0]
    out = tmp_path / "layer.tar.gz"
    reader.download_blob(container, layer["digest"], str(out))
    assert out.read_bytes() == layout.read_blob(layer["digest"])


# --- mutual TLS and minimum versions --------------------------------------------------------------
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_mutual_tls(
    spawn: Spawner,
    ca: CertificateAuthority,
    server_cert: Issued,
    skopeo: Skopeo,
    layout: OciLayout,
    tmp_path: Path,
    server: str,
) -> None:
    client_cert = ca.issue("client", client=True)
    stranger_ca = CertificateAuthority.create(tmp_path / "stranger")
    stranger = stranger_ca.issue("stranger", client=True)
    overrides = tls_overrides(server_cert, clientcas=[str(ca.cert_path)])
    registry = spawn.ours(
        "mtls", overrides, server=server, scheme="https", verify=ca.client_context(client_cert)
    )

    with registry.client() as client:
        assert client.get("/v2/").status_code == 200
    for context in (ca.client_context(), ca.client_context(stranger)):
        with pytest.raises((httpx.TransportError, ssl.SSLError)), registry.client(verify=context) as client:
            client.get("/v2/")

    with_cert = str(ca.cert_dir(tmp_path / "with-cert", client_cert))
    without = str(ca.cert_dir(tmp_path / "without"))
    src, dest = f"oci:{layout.path}:app", registry.ref("mtls/app", "v1")
    skopeo.run("copy", "--src-tls-verify=false", "--dest-cert-dir", with_cert, src, dest)
    assert skopeo.run("inspect", "--cert-dir", with_cert, "--raw", dest).stdout == layout.manifest("app")[1]
    skopeo_fails(skopeo, "inspect", "--cert-dir", without, "--raw", dest)


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_minimum_tls_version(
    spawn: Spawner, ca: CertificateAuthority, server_cert: Issued, server: str
) -> None:
    registry = spawn.ours(
        "tls13",
        tls_overrides(server_cert, minimumtls="tls1.3"),
        server=server,
        scheme="https",
        verify=str(ca.cert_path),
    )
    with registry.client() as client:
        r = client.get("/v2/")
        assert r.status_code == 200
        assert r.extensions["network_stream"].get_extra_info("ssl_object").version() == "TLSv1.3"
    with (
        pytest.raises((httpx.TransportError, ssl.SSLError)),
        registry.client(verify=ca.client_context(maximum=ssl.TLSVersion.TLSv1_2)) as client,
    ):
        client.get("/v2/")

    default = spawn.ours(
        "tls12", tls_overrides(server_cert), server=server, scheme="https", verify=str(ca.cert_path)
    )
    with default.client(verify=ca.client_context(maximum=ssl.TLSVersion.TLSv1_2)) as client:
        assert client.get("/v2/").status_code == 200


# --- cross-repository mounts under token auth -----------------------------------------------------
def fetch_token(token_server: Server, user: str, *scopes: str) -> dict[str, str]:
    with token_server.client(auth=(user, USERS[user])) as client:
        r = client.get("/token", params=[("service", SERVICE), *(("scope", s) for s in scopes)])
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_bob_cannot_read_alices_layer_through_a_mount(spawn: Spawner, tmp_path: Path, server: str) -> None:
    """Issue 12: alice may use ``alice/*``, bob ``bob/*``; no mount lets bob's repository serve alice's layer."""
    if token_server_command() is None:
        pytest.skip("the `registry-token-server` console script is not installed (pip install -e .)")
    acl = [
        {"account": "alice", "repository": "alice/*", "actions": ["*"]},
        {"account": "bob", "repository": "bob/*", "actions": ["*"]},
    ]
    tokens = start_token_server(tmp_path / "token-server", users=USERS, acl=acl, service=SERVICE)
    spawn.servers.append(tokens)
    registry = spawn.ours("mounts", token_auth(tokens), server=server)
    layer = b"alice's private layer"
    digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    alice = fetch_token(tokens, "alice", "repository:alice/y:pull,push")
    bob = fetch_token(tokens, "bob", "repository:bob/x:pull,push", "repository:alice/y:pull")  # not granted
    with registry.client() as client:
        put = client.post(
            f"/v2/alice/y/blobs/uploads/?digest={digest}",
            content=layer,
            headers={**alice, "Content-Type": "application/octet-stream"},
        )
        assert put.status_code == 201, put.text

        def bob_reads() -> int:
            return client.get(f"/v2/bob/x/blobs/{digest}", headers=bob).status_code

        assert bob_reads() == 404
        for query in (f"mount={digest}", f"mount={digest}&from="):
            r = client.post(f"/v2/bob/x/blobs/uploads/?{query}", headers=bob)
            assert r.status_code == 202, r.text  # an upload session, not alice's blob
            assert bob_reads() == 404
        r = client.post(f"/v2/bob/x/blobs/uploads/?mount={digest}&from=alice/y", headers=bob)
        assert r.status_code == 401 and 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
        r = client.post(f"/v2/bob/x/blobs/uploads/?mount={digest}&from=bob/x&from=alice/y", headers=bob)
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "NAME_INVALID"
        assert bob_reads() == 404
        # "*" stays in one path component: alice/* is not a grant on alice/y/z
        deep = fetch_token(tokens, "alice", "repository:alice/y/z:pull,push")
        assert client.post("/v2/alice/y/z/blobs/uploads/", headers=deep).status_code == 401
