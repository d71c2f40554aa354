"""The /v1 endpoints of 数据申请 → 审批 → 授权 for apps (and people with a bearer token).

``POST /v1/applications`` (apply), ``GET /v1/applications`` (mine), ``GET /v1/applications/queue``
(the owner's pending ones), ``POST /v1/applications/{id}/decision`` (approve or reject with a
reason), ``GET /v1/grants`` (mine), ``POST /v1/grants/{id}/renew``, ``POST /v1/grants/{id}/revoke``,
``GET /v1/me/notices``. The rules are ``serving/portal/access.py``; refusals are 403 with the rule,
bad fields 400 naming the field, unknown ids 404 — the error body of the data service.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from security.applications import DataApplication, DataNotice
from security.db import transaction
from security.grants import Grant
from security.identity.accounts import Principal
from serving.portal import access
from serving.portal.lake import enterprise_ids

if TYPE_CHECKING:
    from serving.api.app import Service

ID = Annotated[int, Path(ge=1, le=2_147_483_647)]  # an integer column on PostgreSQL too
SECURITY = {"security": [{"bearer": []}]}
Code = Field(min_length=1, max_length=64)


class ApplicationIn(BaseModel):
    """数据申请 · an application for 重要 columns of one dataset."""

    model_config = ConfigDict(extra="forbid")
    dataset: str = Field(
        min_length=3, max_length=128, description="layer.table, e.g. theme.enterprise_profile"
    )
    columns: list[str] = Field(min_length=1, max_length=100, description="published 重要 columns")
    purpose: str = Field(min_length=4, max_length=1000, description="申请用途 · purpose")
    cities: list[str] = Field(default_factory=list, max_length=100, description="GB/T 2260 city codes")
    chains: list[str] = Field(default_factory=list, max_length=100, description="chain codes")
    own_enterprise: bool = Field(default=False, description="本企业 · an enterprise organisation's own rows")
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    expires_on: dt.date = Field(description="到期日 (00:00 UTC), at most one year ahead")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    reason: str = Field(min_length=2, max_length=1000)


class RenewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_on: dt.date


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=2, max_length=1000)


class ApplicationOut(BaseModel):
    id: int
    dataset: str
    applicant: str
    org: str
    columns: list[str]
    purpose: str
    cities: list[str] | None
    chains: list[str] | None
    own_enterprise: bool
    enterprises: list[str] | None
    period_from: dt.date | None
    period_to: dt.date | None
    expires_at: dt.datetime
    submitted_at: dt.datetime
    status: Literal["pending", "approved", "rejected"]
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None
    grant_id: int | None


class GrantOut(BaseModel):
    id: int
    dataset: str
    grantee_org: str | None
    grantee_app: str | None
    columns: list[str]
    cities: list[str] | None
    chains: list[str] | None
    enterprises: list[str] | None
    period_from: dt.date | None
    period_to: dt.date | None
    granted_by: str
    granted_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    application_id: int | None
    status: Literal["live", "expired", "revoked"]


class NoticeOut(BaseModel):
    id: int
    kind: str
    dataset: str | None
    application_id: int | None
    grant_id: int | None
    objection_id: int | None
    message: str
    created_at: dt.datetime


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _list(text: str | None) -> list[str] | None:
    return json.loads(text) if text else None


def application_out(row: DataApplication) -> ApplicationOut:
    return ApplicationOut(
        id=row.id,
        dataset=row.dataset,
        applicant=row.applicant,
        org=row.applicant_org,
        columns=json.loads(row.columns),
        purpose=row.purpose,
        cities=_list(row.cities),
        chains=_list(row.chains),
        own_enterprise=row.own_enterprise,
        enterprises=_list(row.enterprises),
        period_from=row.period_from,
        period_to=row.period_to,
        expires_at=_aware(row.expires_at),
        submitted_at=_aware(row.submitted_at),
        status=row.status,
        decided_by=row.decided_by,
        decided_at=_aware(row.decided_at),
        reason=row.reason,
        grant_id=row.grant_id,
    )


def grant_out(row: Grant, now: dt.datetime) -> GrantOut:
    return GrantOut(
        id=row.id,
        dataset=row.dataset,
        grantee_org=row.grantee_org,
        grantee_app=row.grantee_app,
        columns=json.loads(row.columns),
        cities=_list(row.cities),
        chains=_list(row.chains),
        enterprises=_list(row.enterprises),
        period_from=row.period_from,
        period_to=row.period_to,
        granted_by=row.granted_by,
        granted_at=_aware(row.granted_at),
        expires_at=_aware(row.expires_at),
        revoked_at=_aware(row.revoked_at),
        application_id=row.application_id,
        status=access.grant_status(row, now),
    )


def notice_out(row: DataNotice) -> NoticeOut:
    return NoticeOut(
        id=row.id,
        kind=row.kind,
        dataset=row.dataset,
        application_id=row.application_id,
        grant_id=row.grant_id,
        objection_id=row.objection_id,
        message=row.message,
        created_at=_aware(row.created_at),
    )


def context(request: Request) -> access.Context:
    return access.Context(uuid.uuid4().hex, request.client.host if request.client else None)


def router(running: Callable[[], Service]) -> APIRouter:
    """The workflow's /v1 routes; ``running`` gives the service (503 when there is none)."""
    api = APIRouter(prefix="/v1", tags=["access"])

    def caller(service: Service, request: Request, now: dt.datetime) -> Principal:
        with transaction(service.db) as session:
            return service.auth.principal(session, request.headers.get("authorization"), now)

    def call(request: Request, work: Callable[[Service, Principal, dt.datetime], Any]) -> Any:
        service = running()
        now = dt.datetime.now(dt.UTC)
        return work(service, caller(service, request, now), now)

    @api.post(
        "/applications",
        status_code=201,
        response_model=ApplicationOut,
        openapi_extra=SECURITY,
        summary="提交数据申请 · apply for 重要 columns of a dataset",
    )
    async def apply(request: Request, body: ApplicationIn) -> ApplicationOut:
        def work(service: Service, principal: Principal, now: dt.datetime) -> ApplicationOut:
            form = access.ApplicationForm(
                dataset=body.dataset,
                columns=body.columns,
                purpose=body.purpose,
                cities=body.cities,
                chains=body.chains,
                own_enterprise=body.own_enterprise,
                period_from=body.period_from,
                period_to=body.period_to,
                expires_on=body.expires_on,
            )
            row = access.submit(
                service.db,
                principal,
                service.catalog,
                form,
                lambda uscc: enterprise_ids(service, uscc),
                now,
                context(request),
            )
            return application_out(row)

        return await run_in_threadpool(call, request, work)

    @api.get(
        "/applications",
        response_model=list[ApplicationOut],
        openapi_extra=SECURITY,
        summary="我的申请 · my applications",
    )
    async def my_applications(request: Request) -> list[ApplicationOut]:
        def work(service: Service, principal: Principal, now: dt.datetime) -> list[ApplicationOut]:
            with transaction(service.db) as session:
                return [application_out(r) for r in access.applications_of(session, principal)]

        return await run_in_threadpool(call, request, work)

    @api.get(
        "/applications/queue",
        response_model=list[ApplicationOut],
        openapi_extra=SECURITY,
        summary="待审批 · pending applications for the datasets of my teams (data owner)",
    )
    async def queue(request: Request) -> list[ApplicationOut]:
        def work(service: Service, principal: Principal, now: dt.datetime) -> list[ApplicationOut]:
            with transaction(service.db) as session:
                return [application_out(r) for r in access.queue_of(session, principal, service.catalog)]

        return await run_in_threadpool(call, request, work)

    @api.post(
        "/applications/{application_id}/decision",
        response_model=ApplicationOut,
        openapi_extra=SECURITY,
        summary="审批 · approve or reject an application with a reason",
    )
    async def decision(request: Request, body: DecisionIn, application_id: ID) -> ApplicationOut:
        def work(service: Service, principal: Principal, now: dt.datetime) -> ApplicationOut:
            row = access.decide_application(
                service.db,
                principal,
                service.catalog,
                application_id,
                body.decision == "approve",
                body.reason,
                now,
                context(request),
            )
            return application_out(row)

        return await run_in_threadpool(call, request, work)

    @api.get("/grants", response_model=list[GrantOut], openapi_extra=SECURITY, summary="我的授权 · my grants")
    async def my_grants(request: Request) -> list[GrantOut]:
        def work(service: Service, principal: Principal, now: dt.datetime) -> list[GrantOut]:
            with transaction(service.db) as session:
                return [grant_out(r, now) for r in access.grants_of(session, principal)]

        return await run_in_threadpool(call, request, work)

    @api.post(
        "/grants/{grant_id}/renew",
        response_model=GrantOut,
        openapi_extra=SECURITY,
        summary="续期 · a grant's new expiry, at most one year ahead (data owner)",
    )
    async def renew(request: Request, body: RenewIn, grant_id: ID) -> GrantOut:
        def work(service: Service, principal: Principal, now: dt.datetime) -> GrantOut:
            row = access.renew(
                service.db, principal, service.catalog, grant_id, body.expires_on, now, context(request)
            )
            return grant_out(row, now)

        return await run_in_threadpool(call, request, work)

    @api.post(
        "/grants/{grant_id}/revoke",
        response_model=GrantOut,
        openapi_extra=SECURITY,
        summary="撤销 · revoke a grant; effective on the next request (data owner)",
    )
    async def revoke(request: Request, body: RevokeIn, grant_id: ID) -> GrantOut:
        def work(service: Service, principal: Principal, now: dt.datetime) -> GrantOut:
            row = access.revoke(
                service.db, principal, service.catalog, grant_id, body.reason, now, context(request)
            )
            return grant_out(row, now)

        return await run_in_threadpool(call, request, work)

    @api.get(
        "/me/notices",
        response_model=list[NoticeOut],
        openapi_extra=SECURITY,
        summary="通知 · notices about my applications, grants and objections",
    )
    async def notices(request: Request) -> list[NoticeOut]:
        def work(service: Service, principal: Principal, now: dt.datetime) -> list[NoticeOut]:
            with transaction(service.db) as session:
                return [notice_out(r) for r in access.notices_of(session, principal)]

        return await run_in_threadpool(call, request, work)

    return api
