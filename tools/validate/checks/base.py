"""The check every run starts with: the registry answers the V2 API (after authentication, when it asks)."""

from __future__ import annotations

from registry_spec import urls
from registry_toolkit.validate.checks.context import Context
from registry_toolkit.validate.checks.suite import Suite

suite = Suite("base", "The V2 API version check")


@suite.check("api", "GET /v2/ answers 200 once authenticated", "end-1")
def api(ctx: Context) -> None:
    reply = ctx.request("GET", urls.base())
    if reply.status == 401:
        how = (
            "with the given credentials" if ctx.options.username else "and no --username/--password was given"
        )
        ctx.fail(f"the registry still refuses the client (401) {how}", reply)
    ctx.expect_documented(reply, "end-1")
