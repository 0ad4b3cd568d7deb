"""``dist`` reaches a registry with mutual TLS and htpasswd as real setups have it: the CA and the client pair in
``certs.d/HOST:PORT/`` (Docker's layout; the base directory from ``DIST_CERTS_D`` here, ``/etc/docker/certs.d``
otherwise), credentials from ``--dest-creds`` or an auth file (``--authfile``, ``REGISTRY_AUTH_FILE``); ``--cacert``
alone is refused by a server that wants a client certificate, with one clean error line.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

from testkit.dist import InProcessDist as Dist
from testkit.oci_layout import OciLayout
from testkit.processes import Server, Spawner
from testkit.tls import CertificateAuthority
from testkit.token_server import write_htpasswd

USERS = {"alice": "alice-pw"}


def test_mutual_tls_through_certs_d_with_credentials(
    tmp_path: Path, spawn: Spawner, ours_filesystem: Server
) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca")
    server_cert = ca.issue("registry", hosts=("127.0.0.1", "localhost"))
    client_cert = ca.issue("dist-client", client=True)
    users = write_htpasswd(tmp_path / "users.htpasswd", USERS)
    overrides = {
        "http": {
            "tls": {
                "certificate": str(server_cert.cert_path),
                "key": str(server_cert.key_path),
                "clientcas": [str(ca.cert_path)],
            }
        },
        "auth": {"htpasswd": {"realm": "tls realm", "path": str(users)}},
    }
    guarded = spawn.ours("mtls", overrides, scheme="https", verify=ca.client_context(client_cert))

    layout = OciLayout(tmp_path / "layout", seed=5)
    layout.add_image("v1", layers=2)
    repository = f"tls/app-{uuid.uuid4().hex[:6]}"
    with ours_filesystem.client() as client:
        digest = layout.push(client, repository, "v1")

    certs_d = tmp_path / "certs.d"
    ca.cert_dir(certs_d / guarded.host, client_cert)  # ca.crt, client.cert, client.key
    auth = tmp_path / "auth.json"
    token = base64.b64encode(b"alice:alice-pw").decode()
    auth.write_text(json.dumps({"auths": {guarded.host: {"auth": token}}}))
    dist = Dist(tmp_path / "home", env={"DIST_CERTS_D": str(certs_d)})

    copied = dist.json(
        "copy", "--dest-creds", "alice:alice-pw", f"{ours_filesystem.host}/{repository}:v1", f"{guarded.host}/{repository}:v1"
    )  # fmt: skip
    assert copied["digest"] == digest
    with guarded.client(auth=("alice", "alice-pw")) as client:
        assert (
            client.head(f"/v2/{repository}/manifests/v1", headers={"Accept": layout_accept()}).status_code
            == 200
        )

    with_authfile = Dist(
        tmp_path / "home2", env={"DIST_CERTS_D": str(certs_d), "REGISTRY_AUTH_FILE": str(auth)}
    )
    assert with_authfile("digest", f"{guarded.host}/{repository}:v1").stdout.strip() == digest
    assert dist("ls", "--authfile", str(auth), f"{guarded.host}/{repository}").stdout.split() == ["v1"]

    anonymous = dist.fails("digest", f"{guarded.host}/{repository}:v1")
    assert "401" in anonymous or "UNAUTHORIZED" in anonymous
    ca_only = Dist(tmp_path / "home3").fails(
        "digest",
        "--cacert",
        str(ca.cert_path),
        "--creds",
        "alice:alice-pw",
        f"{guarded.host}/{repository}:v1",
    )
    # TLS 1.3 sends the refusal after the client's handshake is done: it arrives as the alert, or (timing) as the
    # connection closing under the request; either way one clean error line.
    refusals = ("certificate required", "alert", "reset", "eof", "closed", "disconnected")
    assert any(word in ca_only.lower() for word in refusals), ca_only
    client_only = ca.cert_dir(tmp_path / "client-only", client_cert)
    (client_only / "ca.crt").unlink()  # a client pair without the CA: the server's certificate is not trusted
    untrusted = dist.fails("digest", "--cert-dir", str(client_only), f"{guarded.host}/{repository}:v1")
    assert "certificate verify failed" in untrusted


def layout_accept() -> str:
    return "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"
