"""Real servers for the hostile tier: per server kind, one open registry and one behind htpasswd, short timeouts.

Each kind's directory holds both servers' storage roots and a sibling directory with a sentinel file; the
tier's last test checks that nothing outside the storage roots was created, changed or removed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostile.cases import LIMITS, PASSWORD, USER
from hostile.targets import BLOB, BLOB_DIGEST, Target, data_roots, tree_snapshot
from testkit.processes import ours_command, start_ours
from testkit.rawhttp import exchange, request_bytes
from testkit.token_server import write_htpasswd


@pytest.fixture(scope="session", params=["granian", "uvicorn"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if ours_command() is None:
        pytest.skip("the `registry` console script is not installed (pip install -e .)")
    kind = request.param
    root = tmp_path_factory.mktemp(f"hostile-{kind}")
    (root / "outside").mkdir()
    (root / "outside" / "sentinel").write_text("must stay as it is\n")
    users = write_htpasswd(root / "users.htpasswd", {USER: PASSWORD})
    limits = {"http": {"limits": LIMITS}}
    auth = {"auth": {"htpasswd": {"realm": "Hostile", "path": str(users)}}, **limits}
    open_server = start_ours(root / "open", limits, server=kind)
    try:
        auth_server = start_ours(root / "auth", auth, server=kind)
    except BaseException:
        open_server.stop()
        raise
    try:
        pushed = exchange(
            "127.0.0.1",
            open_server.port,
            request_bytes(
                "POST",
                f"/v2/hostile/blobs/uploads/?digest={BLOB_DIGEST}",
                [("Content-Length", str(len(BLOB))), ("Content-Type", "application/octet-stream")],
                BLOB,
            ),
        )
        assert pushed.status == 201, pushed.describe()
        yield Target(kind, root, open_server, auth_server, tree_snapshot(root, data_roots(root)))
    finally:
        open_server.stop()
        auth_server.stop()
