"""What granian and uvicorn are told of the ``http`` section besides TLS: limits, timeouts, HTTP/2 and drain.

What each server can enforce itself (the application enforces the rest, see ``registry_impl.api.limits``):

========================  =====================================  =========================================
``http.limits.…``         granian 2.8                            uvicorn (httptools)
========================  =====================================  =========================================
``maxrequestline``        its read buffer (the head's total)     ``BoundedHttpToolsProtocol``: 414
``maxheaders``            hyper's fixed 100 (431)                ``BoundedHttpToolsProtocol``: 431
``maxheaderbytes``        its read buffer (≥ 1 MiB: 431)         ``BoundedHttpToolsProtocol``: 431
``headertimeout``         ``header_read_timeout``: one timer     ``BoundedHttpToolsProtocol``: 408
``idletimeout``           for both, the shorter of the two       ``timeout_keep_alive`` (also when fresh)
``maxconnections``        ``backpressure``: further ones wait    further ones are closed at once
``bodytimeout``           none: the application bounds it        none: the application bounds it
========================  =====================================  =========================================

HTTP/2: granian serves HTTP/1.1 only unless ``http.h2c.enabled`` (cleartext HTTP/2) or TLS without
``http.http2.disabled`` (HTTP/2 by ALPN); this uvicorn has no HTTP/2, and refuses ``http.h2c.enabled``.
``http.draintimeout``: how long a stopping server lets requests in flight finish (0: the server's own default).
"""

from __future__ import annotations

import logging
from typing import Any

from registry_impl.config import ConfigError, HTTPConfig

__all__ = ["GRANIAN_READ_BUFFER", "HYPER_MAX_HEADERS", "granian_options", "uvicorn_options"]

log = logging.getLogger("registry")

HYPER_MAX_HEADERS = 100  # granian's parser refuses more headers than this, whatever is configured
#: granian's read buffer per connection, the largest request-body chunk it hands over. Its default (408 KiB)
#: cut a 128 MiB body into ~330 chunks, each one copy into Python bytes, a hand-over to the event loop and
#: two to the upload's pipe; 1 MiB measured (granian, one worker, 128 MiB pushes onto tmpfs, 3 x 5 alternated
#: each way) 590-760 MiB/s monolithic at 1.7-1.9 server CPU-s/GiB against 554-676 at 2.0-2.2, chunked
#: (8 MiB PATCHes) 466-594 at 2.3-2.5 against 448-593 at 2.5-2.7; 2 and 4 MiB gained nothing more. The
#: application still refuses heads beyond ``http.limits`` (``api.limits``); this only bounds what granian
#: reads of one before it does.
GRANIAN_READ_BUFFER = 1 << 20
_FRAMING = 8  # bytes of ": ", CRLF and whitespace per header line


def granian_options(http: HTTPConfig) -> dict[str, Any]:
    """Keyword arguments for ``granian.server.Server``."""
    from granian.constants import HTTPModes
    from granian.http import HTTP1Settings

    limits = http.limits
    if limits.maxheaders > HYPER_MAX_HEADERS:
        log.warning(
            "http.limits.maxheaders: granian refuses more than %d headers (431); use --server uvicorn "
            "for more",
            HYPER_MAX_HEADERS,
        )
    if limits.idletimeout != limits.headertimeout:
        log.info(
            "http.limits: granian has one timer for idle connections and request heads; using the shorter"
        )
    head = limits.maxrequestline + limits.maxheaderbytes + _FRAMING * limits.maxheaders
    timeout = min(limits.headertimeout, limits.idletimeout)
    http2 = http.h2c.enabled or (http.tls.enabled and not http.http2.disabled)
    options: dict[str, Any] = {
        "http": HTTPModes.auto if http2 else HTTPModes.http1,
        "http1_settings": HTTP1Settings(
            header_read_timeout=max(1, int(timeout.total_seconds() * 1000)),
            max_buffer_size=max(GRANIAN_READ_BUFFER, head),
        ),
        "backpressure": limits.maxconnections,
    }
    if http.draintimeout:
        options["workers_kill_timeout"] = max(1, round(http.draintimeout.total_seconds()))
    return options


def uvicorn_options(http: HTTPConfig) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` (the protocol reads the limits itself, in each worker)."""
    if http.h2c.enabled:
        raise ConfigError("http.h2c.enabled", "uvicorn here has no HTTP/2; run with --server granian")
    options: dict[str, Any] = {
        "http": "registry_impl.uvicorn_protocol:BoundedHttpToolsProtocol",
        "timeout_keep_alive": http.limits.idletimeout.total_seconds(),
    }
    if http.draintimeout:
        options["timeout_graceful_shutdown"] = max(1, round(http.draintimeout.total_seconds()))
    return options
