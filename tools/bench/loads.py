"""The load generators and transfer clients: wrk, ab and curl, run as processes, and the parsers of their output.

wrk drives GETs (it stalls on HEAD: it waits for a body of Content-Length bytes) and, with a Lua script,
manifest PUTs (a new manifest on every request); ab (apache2-utils) drives HEADs, on keep-alive connections;
curl moves blobs between a file on disk and the server so that no blob is ever held in memory. hey drove the
HEADs until it was measured to be the bottleneck: ~40 µs of its own CPU per request (0.75 of the 2 cores at
18 000 HEADs/s) against ab's ~11 µs, so the HEAD figure was hey's as much as the servers'; it drove the manifest
PUTs too, one body again and again (a re-tag that moves nothing), until wrk's scripted PUTs of new manifests
replaced it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

WRK_THREADS = 2
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
UNITS_BYTES = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}  # wrk's are binary


class LoadFailed(RuntimeError):
    """A load generator or transfer client failed, or the server answered something other than success."""


@dataclass(frozen=True)
class LoadResult:
    """One load run: completed requests per second, latency percentiles, and what went wrong."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, timeouts, refused connections
    non_2xx: int  # answers outside 2xx (wrk counts 3xx as success too)
    bytes_read: float | None = None  # headers and bodies of every answer (wrk only)


def _duration_ms(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]


def parse_wrk(text: str) -> LoadResult:
    """Parse ``wrk --latency`` output."""
    total = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)([KMGT]?B) read", text, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if total is None or rps is None:
        raise LoadFailed(f"unrecognised wrk output:\n{text}")
    percentiles = {
        int(p): _duration_ms(v, u)
        for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    }
    errors = 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket:
        errors = sum(int(n) for n in socket.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return LoadResult(
        requests=int(total.group(1)),
        seconds=_duration_ms(total.group(2), total.group(3)) / 1000.0,
        rps=float(rps.group(1)),
        p50_ms=percentiles.get(50, float("nan")),
        p99_ms=percentiles.get(99, float("nan")),
        errors=errors,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        bytes_read=float(total.group(4)) * UNITS_BYTES[total.group(5)],
    )


def parse_ab(text: str) -> LoadResult:
    """Parse ApacheBench's report (``ab -k``); latency percentiles are whole milliseconds there."""
    total = re.search(r"^Time taken for tests:\s+([\d.]+) seconds", text, re.M)
    complete = re.search(r"^Complete requests:\s+(\d+)", text, re.M)
    if total is None or complete is None:
        raise LoadFailed(f"unrecognised ab output:\n{text}")
    failed = re.search(r"^Failed requests:\s+(\d+)", text, re.M)
    non_2xx = re.search(r"^Non-2xx responses:\s+(\d+)", text, re.M)
    percentiles = {int(p): float(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\d+)\s*$", text, re.M)}
    answered, seconds = int(complete.group(1)), float(total.group(1))
    return LoadResult(
        requests=answered,
        seconds=seconds,
        rps=answered / seconds if seconds > 0 else 0.0,
        p50_ms=percentiles.get(50, float("nan")),
        p99_ms=percentiles.get(99, float("nan")),
        errors=int(failed.group(1)) if failed else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def _header_args(flag: str, headers: Mapping[str, str]) -> list[str]:
    return [arg for name, value in headers.items() for arg in (flag, f"{name}: {value}")]


def _run(argv: list[str], timeout: float) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LoadFailed(f"{argv[0]} did not finish within {timeout:.0f}s") from exc
    if done.returncode != 0:
        raise LoadFailed(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: Mapping[str, str] | None = None,
    script: Path | None = None,
    threads: int = WRK_THREADS,
) -> LoadResult:
    """``wrk -tT -cN -dS --latency``: GETs of ``url``, or the requests a Lua ``script`` makes (``-s``)."""
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        *_header_args("-H", headers or {}),
        *(["-s", str(script)] if script is not None else []),
        url,
    ]
    return parse_wrk(_run(argv, seconds + 60))


def manifest_push_script(repository: str, manifest: bytes, media_type: str, nonce: str) -> str:
    """A wrk Lua script under which each thread PUTs a new manifest on every request, to its own tag
    (``put-<thread>``): ``manifest`` with an annotation ``registry-bench: <nonce>-<thread>-<n>``. Run with
    one connection per thread, every PUT stores a manifest the registry has not seen and moves a tag, as a
    push does; a new ``nonce`` per run keeps the next run's manifests new too."""
    document = json.loads(manifest)
    document["annotations"] = {"registry-bench": "@@"}
    prefix, suffix = json.dumps(document, indent=2).split("@@")
    for part in (prefix, suffix):
        if "]==]" in part:  # the Lua long bracket's end
            raise ValueError("the manifest cannot be quoted in a Lua long string")
    return f"""-- registry-bench: new manifests, each thread to its own tag (wrk -tN -cN)
local prefix = [==[{prefix}]==]
local suffix = [==[{suffix}]==]
local headers = {{["Content-Type"] = "{media_type}"}}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  n = 0
end
function request()
  n = n + 1
  local body = prefix .. "{nonce}-" .. id .. "-" .. n .. suffix
  return wrk.format("PUT", "/v2/{repository}/manifests/put-" .. id, headers, body)
end
"""


def ab_head(
    url: str, *, connections: int, seconds: float, headers: Mapping[str, str] | None = None
) -> LoadResult:
    """``ab -i -k -c N -t S``: HEAD on keep-alive connections for S seconds (``-n`` lifts ab's default cap of
    50 000 requests, which ``-t`` would otherwise set)."""
    argv = [
        "ab",
        "-i",
        "-k",
        "-q",
        "-c",
        str(connections),
        "-t",
        str(max(1, round(seconds))),
        "-n",
        "100000000",
        *_header_args("-H", headers or {}),
        url,
    ]
    return parse_ab(_run(argv, seconds + 60))


#: What curl prints after a transfer (``-w``): the status, the body's bytes (``size``: which way), curl's seconds.
CURL_WRITE_OUT = "%{{http_code}} %{{{size}}} %{{time_total}}"


@dataclass(frozen=True)
class Transfer:
    """One curl transfer: HTTP status, bytes moved in the body, and its seconds by curl's own clock
    (``time_total``: from the connection's start to the transfer's end). Not the wall time around the
    process: curl's start-up (~10 ms here, 5 % of a 128 MiB push to ours on tmpfs) is no server's work, and
    counting it on both sides pulled the ratio of the faster server down."""

    status: int
    size: int
    seconds: float


def curl_download(url: str, *, timeout: float = 600.0) -> Transfer:
    """GET ``url`` into /dev/null (no redirects followed: a redirect would measure another server)."""
    argv = ["curl", "-sS", "-o", "/dev/null", "-w", CURL_WRITE_OUT.format(size="size_download"), url]
    return _transfer(_run(argv, timeout))


def curl_upload(url: str, path: Path, *, method: str, timeout: float = 600.0) -> Transfer:
    """Stream ``path`` as the body of ``method url`` with a Content-Length (``curl -T``), no ``Expect: 100``.

    The path and query go in ``--request-target``: given a URL whose path ends in ``/`` (``.../uploads/?digest=``),
    ``curl -T`` appends the file's name to it.
    """
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    argv = [
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        CURL_WRITE_OUT.format(size="size_upload"),
        "-X",
        method,
        "-T",
        str(path),
        "-H",
        "Content-Type: application/octet-stream",
        "-H",
        "Expect:",
        "--request-target",
        target,
        f"{parts.scheme}://{parts.netloc}/",
    ]
    return _transfer(_run(argv, timeout))


def _transfer(written_out: str) -> Transfer:
    """A ``Transfer`` from what curl printed for ``CURL_WRITE_OUT``."""
    status, size, seconds = written_out.split()
    return Transfer(int(status), int(float(size)), float(seconds))
