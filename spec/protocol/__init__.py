"""registry_spec.protocol: the registry protocol without I/O, shared by the server, the client and the tools.

Plain values in, plain values out; nothing here opens a socket, reads a file or knows a request object.

    errors.py       ProtocolError and its subclasses (the one exception family of the core)
    digests.py      the digest grammar, parsing, hashing and verification
    references.py   repository names, tags, manifest references and docker-style image references
    links.py        the ``Link: <…>; rel="next"`` of paginated listings (parsing is httpx's ``Response.links``)
    challenges.py   ``WWW-Authenticate`` challenges
    ranges.py       ``Range`` / ``Content-Range`` on blob downloads and uploads
    descriptors.py  the OCI descriptor, platform and manifest model
"""
