"""The service layer: one module per entity, between the handlers and storage.

A handler parses its HTTP request into plain values (repository name, reference, digest, the body or
its byte stream, content type, query and header values already parsed), calls one service function
here with the application state (``state.State``: what the services read of ``AppState``), and builds
its response from the domain result. The services hold the invariants that span storage calls —
complete then link, mount, the claims on an upload session, a tag or a manifest revision
(``claims``), referrer bookkeeping, the upload state token — and are the only callers of
``offload``, the one async boundary: whether storage is local or remote, and what runs in a worker
thread, is decided here and in no handler. Nothing here imports ``registry_impl.api``.

Hot reads (the descriptor's ``fast`` operations, which ``api.fastpath`` sends straight to their
handlers) do their storage work in one sync function behind one ``Offload.storage`` call — inline on
local storage, as before this layer existed, so the fast path pays one coroutine frame more and no
thread hop; a blob GET opens its reader with a second call (``BlobFound.open``) once the handler has
judged ``If-None-Match`` and ``Range``.
"""
