"""The data service's routes for the briefs (the portal links them): a listing and the files.

``GET /v1/briefs`` lists the months with a brief; ``GET /v1/briefs/<YYYY-MM>/brief.html`` (or
``brief.pdf``, ``figures.json``) returns one. The brief states province and city totals of 重要
amounts in clear, so it is for the people who see them anyway: a person holding ``data_owner``
or ``data_engineer``, or a caller whose live grant on theme.economic_operation_month clears the
amounts for every city and chain. Every file read is audited (``data.read``, object
``brief:<period>``), refusals too.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from security.audit import trail
from security.db import transaction
from security.identity.accounts import Principal
from serving.brief.render import brief_uri, list_briefs
from serving.grants import grants_for

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FILES = {
    "brief.html": "text/html; charset=utf-8",
    "brief.pdf": "application/pdf",
    "figures.json": "application/json",
}
ROLES = frozenset({"data_owner", "data_engineer"})
THEME = "theme.economic_operation_month"
AMOUNTS = frozenset({"gross_output", "revenue", "total_profit"})
# the page's own policy: inline CSS and SVG only, nothing loaded from anywhere
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def may_read(session: Any, principal: Principal, now: dt.datetime) -> bool:
    if principal.name.startswith("user:") and principal.roles & ROLES:
        return True
    grants = grants_for(session, principal=principal.name, org=principal.org, dataset=THEME, now=now)
    return any(
        g.columns >= AMOUNTS and g.cities is None and g.chains is None and g.enterprises is None
        for g in grants
    )


def add_routes(app: FastAPI, running: Callable[[], Any], failure: Callable[..., Exception]) -> None:
    """Register the brief routes on ``app``; ``running()`` is the service, ``failure(status,
    code, message)`` the service's error."""

    def authorise(request: Request, what: str) -> tuple[Any, Principal]:
        service = running()
        now = dt.datetime.now(dt.UTC)
        client = request.client.host if request.client else None
        with transaction(service.db) as session:
            principal = service.auth.principal(session, request.headers.get("authorization"), now)
            allowed = may_read(session, principal, now)
            if not allowed:
                trail.record(
                    session, actor=principal.actor(), event_type="data.read", object=what, result="refused",
                    params={"reason": "no role or province-wide grant for the brief"},
                    request_id=uuid.uuid4().hex, client=client,
                )  # fmt: skip
        if not allowed:
            raise failure(
                403, "forbidden", "the brief is for data owners, engineers and province-wide grants"
            )
        return service, principal

    @app.get("/v1/briefs", tags=["brief"], summary="经济运行月报目录 · the monthly briefs",
             openapi_extra={"security": [{"bearer": []}]})  # fmt: skip
    def briefs(request: Request) -> list[dict[str, Any]]:
        service, _ = authorise(request, "brief")
        return [
            {
                **b,
                "links": {n: f"/v1/briefs/{b['period']}/{n}" for n in FILES if n != "brief.pdf" or b["pdf"]},
            }
            for b in list_briefs(service.reader.lake)
        ]

    @app.get("/v1/briefs/{period}/{name}", tags=["brief"], summary="一期月报 · a brief: page, PDF, figures",
             openapi_extra={"security": [{"bearer": []}]})  # fmt: skip
    def brief_file(request: Request, period: str, name: str) -> Response:
        if not PERIOD.match(period) or name not in FILES:
            raise failure(404, "not_found", "no such brief")
        service, principal = authorise(request, f"brief:{period}")
        lake = service.reader.lake
        uri = brief_uri(lake, period, name)
        if not lake.exists(uri):
            raise failure(404, "not_found", f"no {name} for {period}")
        body = lake.read_bytes(uri)
        with transaction(service.db) as session:
            trail.record(
                session, actor=principal.actor(), event_type="data.read", object=f"brief:{period}",
                result="success", params={"file": name, "bytes": len(body)}, request_id=uuid.uuid4().hex,
                client=request.client.host if request.client else None,
            )  # fmt: skip
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        if name == "brief.html":
            headers["Content-Security-Policy"] = PAGE_CSP
        return Response(body, media_type=FILES[name], headers=headers)
