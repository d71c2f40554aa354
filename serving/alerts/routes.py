"""``GET /v1/alerts``: the latest alerts and their delivery state, for the portal.

For the people who operate the platform — ``system_admin``, ``data_engineer``,
``security_auditor`` — and the data owners (alerts name datasets and rules, not data values).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Query, Request

from security.db import transaction
from serving.alerts.webhooks import recent

ROLES = frozenset({"system_admin", "data_engineer", "security_auditor", "data_owner"})


def add_routes(app: FastAPI, running: Callable[[], Any], failure: Callable[..., Exception]) -> None:
    @app.get("/v1/alerts", tags=["alerts"], summary="告警 · the latest alerts and their delivery state",
             openapi_extra={"security": [{"bearer": []}]})  # fmt: skip
    def alerts(request: Request, limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
        service = running()
        with transaction(service.db) as session:
            principal = service.auth.principal(
                session, request.headers.get("authorization"), dt.datetime.now(dt.UTC)
            )
        if not principal.roles & ROLES:
            raise failure(
                403, "forbidden", "alerts are for administrators, engineers, auditors and data owners"
            )
        return recent(service.db, limit)
