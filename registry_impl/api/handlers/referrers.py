"""GET /v2/<name>/referrers/<digest>: an OCI index of the manifests whose subject is the digest
(``registry_impl.services.referrers``)."""

from __future__ import annotations

import json

from registry_spec import mediatypes as mt
from starlette.responses import Response

from registry_impl.api.context import current
from registry_impl.services import referrers


async def list_referrers(name: str, digest: str) -> Response:
    ctx = current()
    wanted = ctx.request.query_params.get("artifactType")
    found = await referrers.list_referrers(ctx.state, name, digest, wanted)
    headers = {"OCI-Filters-Applied": "artifactType"} if found.filtered else {}
    body = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": found.manifests}
    return Response(json.dumps(body, separators=(",", ":")), media_type=mt.OCI_INDEX, headers=headers)
