"""``dist-bench``: ``dist copy`` against ``skopeo copy`` between two local registries, in alternating rounds.

It starts a source and a destination registry on loopback (ours, ``registry serve``, or the reference,
``docker-registry serve``), pushes a multi-layer image of incompressible layers (valid gzip streams of random
bytes, so skopeo neither recompresses nor can shortcut them) to the source, then copies it to the destination
with each tool in turn, starting every copy against an empty destination. Rounds alternate which tool goes first.
It prints each copy's time, throughput and the CPU-seconds the copying tool itself used (the registries' are
not counted), the medians, and the ratio skopeo time / dist time (above 1: dist is faster). This is a benchmark,
not a test: nothing is asserted beyond each copy arriving with the same digest.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml
from registry_client import Manifest, RegistryClient, file_opener
from registry_client.blobs import file_digest

__all__ = ["main"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gib": 1 << 30,
}


def parse_size(text: str) -> int:
    number = text.rstrip("BbIiKkMmGg")
    unit = text[len(number) :].lower()
    if unit not in UNITS or not number:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 256MiB, 1GiB)")
    return int(float(number) * UNITS[unit])


@dataclass
class Registry:
    kind: str
    root: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = {
            "version": "0.1",
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.root / "data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host, "secret": "dist-bench"},
        }
        path = self.root / "config.yml"
        path.write_text(yaml.safe_dump(config))
        if self.kind == "ours":
            beside = Path(sys.executable).parent / "registry"
            command = [str(beside) if beside.exists() else "registry", "serve", str(path)]
        else:
            command = ["docker-registry", "serve", str(path)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_") and k != "AWS_CA_BUNDLE"}
        log = (self.root / "server.log").open("ab")
        self.proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{self.host}/v2/", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
            if self.proc.poll() is not None:
                break
        raise SystemExit(f"dist-bench: {self.kind} registry did not start; see {self.root / 'server.log'}")

    def stop(self, wipe: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.proc = None
        if wipe:
            shutil.rmtree(self.root / "data", ignore_errors=True)


def make_layers(directory: Path, total: int, count: int, seed: int = 1) -> list[Path]:
    """``count`` gzip files (stored blocks) of random bytes adding up to about ``total`` bytes."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = directory / f"layer-{i}.gz"
        remaining = total // count
        squeeze = zlib.compressobj(0, zlib.DEFLATED, 31)
        with open(path, "wb") as out:
            while remaining > 0:
                piece = rng.randbytes(min(remaining, 8 << 20))
                remaining -= len(piece)
                out.write(squeeze.compress(piece))
            out.write(squeeze.flush())
        paths.append(path)
    return paths


def push_image(source: Registry, layers: list[Path], repository: str, tag: str) -> str:
    with RegistryClient(f"http://{source.host}") as client:
        descriptors = []
        for path in layers:
            digest, size = file_digest(path)
            client.blobs.upload(repository, file_opener(path), digest, size)
            descriptors.append({"mediaType": OCI_LAYER_GZIP, "digest": digest, "size": size})
        config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
        config_digest = client.blobs.upload(repository, config)
        manifest = Manifest.from_document(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
                "layers": descriptors,
            }
        )
        return client.manifests.put(repository, tag, manifest)


def run_copy(tool: str, source: str, destination: str, jobs: int, home: Path) -> tuple[float, float]:
    """Copy once with ``tool``: (wall seconds, CPU-seconds the tool used)."""
    if tool == "dist":
        argv = [
            sys.executable,
            "-m",
            "registry_toolkit.dist",
            "copy",
            "-q",
            "--jobs",
            str(jobs),
            source,
            destination,
        ]
    else:
        argv = ["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false",
                f"docker://{source}", f"docker://{destination}"]  # fmt: skip
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home)}
    errors = home / "stderr"
    started = time.perf_counter()
    with errors.open("wb") as stderr:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"dist-bench: {tool} failed:\n{errors.read_text()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dist-bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--size", type=parse_size, default=parse_size("1GiB"), help="image size (default 1GiB)"
    )
    parser.add_argument("--layers", type=int, default=8, help="number of layers (default 8)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds; each copies once with each tool (default 3)"
    )
    parser.add_argument(
        "--server", choices=["ours", "reference"], default="ours", help="which registry runs both ends"
    )
    parser.add_argument("--jobs", type=int, default=4, help="dist copy --jobs (default 4)")
    parser.add_argument(
        "--workdir", type=Path, help="where data goes (default: a temporary directory, removed)"
    )
    args = parser.parse_args(argv)
    if shutil.which("skopeo") is None:
        print("dist-bench: skopeo is not installed", file=sys.stderr)
        return 2

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dist-bench-"))
    source, destination = (
        Registry(args.server, workdir / "source"),
        Registry(args.server, workdir / "destination"),
    )
    try:
        source.start()
        layers = make_layers(workdir / "layers", args.size, args.layers)
        size = sum(p.stat().st_size for p in layers)
        digest = push_image(source, layers, "bench/image", "v1")
        print(f"image {digest}: {args.layers} layers, {size / (1 << 20):.0f} MiB; {args.server} -> {args.server}, "
              f"{args.rounds} rounds, dist --jobs {args.jobs}")  # fmt: skip
        times: dict[str, list[float]] = {"dist": [], "skopeo": []}
        cpu: dict[str, list[float]] = {"dist": [], "skopeo": []}
        for round_ in range(args.rounds):
            order = ["dist", "skopeo"] if round_ % 2 == 0 else ["skopeo", "dist"]
            for tool in order:
                destination.start()
                try:
                    elapsed, used = run_copy(tool, f"{source.host}/bench/image:v1", f"{destination.host}/bench/image:v1",
                                       args.jobs, workdir / "home")  # fmt: skip
                    with RegistryClient(f"http://{destination.host}") as check:
                        arrived = check.manifests.resolve("bench/image", "v1").digest
                    if arrived != digest:
                        raise SystemExit(f"dist-bench: {tool} delivered {arrived}, expected {digest}")
                finally:
                    destination.stop(wipe=True)
                times[tool].append(elapsed)
                cpu[tool].append(used)
                print(f"round {round_ + 1}  {tool:<6}  {elapsed:7.2f} s  {size / elapsed / (1 << 20):7.1f} MiB/s"
                      f"  {used:5.2f} CPU-s")  # fmt: skip
        dist_median, skopeo_median = statistics.median(times["dist"]), statistics.median(times["skopeo"])
        for tool, median in (("dist", dist_median), ("skopeo", skopeo_median)):
            print(f"median  {tool:<6}  {median:7.2f} s  {size / median / (1 << 20):7.1f} MiB/s"
                  f"  {statistics.median(cpu[tool]):5.2f} CPU-s")  # fmt: skip
        print(f"ratio skopeo/dist time: {skopeo_median / dist_median:.2f} (above 1: dist is faster)")
    finally:
        source.stop()
        destination.stop()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
