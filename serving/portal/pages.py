"""数据门户: the portal's HTML pages for people (Jinja2, autoescaped; Chinese UI).

Security of the pages (issue 14 item 7): a person logs in with their password
(``security.identity.accounts.password_login``, audited ``auth.login``, the login rate-limited per
client address like ``POST /v1/token``); the login token lives in a cookie that is HttpOnly,
SameSite=Strict, path /portal, and Secure when the request came over HTTPS. Every POST form
carries a CSRF token: before login a random value also set as a cookie (double submit), after login
an HMAC of the session token (which scripts cannot read) — compared in constant time. Every page
is sent with a Content-Security-Policy allowing only the service's own stylesheet (no script at
all, no inline anything), no framing, no referrer; the service sets no CORS header. The pages call
the same rules as the API (``serving/portal/access.py``) and read the lake only through
``serving/portal/lake.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from catalog.publishing import published, published_columns
from ibrain.pages import environment
from security.actor import Actor
from security.audit import trail
from security.audit.search import search
from security.authz import Refused, decide
from security.db import transaction
from security.identity import accounts
from security.identity.models import Organisation
from serving.api import limits as rate
from serving.api.auth import Unauthenticated
from serving.portal import access
from serving.portal.lake import enterprise_ids, indicator_library, own_records, quality_scores

if TYPE_CHECKING:
    from security.identity.accounts import Principal
    from serving.api.app import Service

STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "ibrain_portal"
LOGIN_CSRF_COOKIE = "ibrain_portal_login"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
GRADE_CLASS = {"一般": "g-general", "重要": "g-important", "核心": "g-core"}
STATUS_ZH = {
    "pending": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
    "live": "有效",
    "expired": "已过期",
    "revoked": "已撤销",
    "open": "处理中",
    "corrected": "已更正",
    "unchanged": "经核实未变更",
}
FREQUENCY_ZH = {
    "daily": "每日",
    "monthly": "每月",
    "per_run": "每次运行",
    "hourly": "每小时",
    "weekly": "每周",
}

_env = environment("serving.portal")
_env.filters["status_zh"] = lambda s: STATUS_ZH.get(s, s)
_env.filters["frequency_zh"] = lambda s: FREQUENCY_ZH.get(s, s)
_env.filters["grade_class"] = lambda g: GRADE_CLASS.get(g, "")
_env.filters["json_list"] = lambda text: ", ".join(json.loads(text)) if text else "不限"
_env.filters["day"] = lambda moment: str(moment)[:10] if moment else ""


class Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


class PageError(Exception):
    """A page answered with an error message (400, 403, 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def csrf_of(token: str) -> str:
    """The CSRF token of a logged-in page: bound to the session token the cookie holds."""
    return hmac.new(token.encode("utf-8"), b"ibrain-portal-csrf", hashlib.sha256).hexdigest()


PAGE_DEFAULTS = {
    "principal": None,
    "roles": (),
    "is_enterprise": False,
    "org_name": "",
    "active": "",
    "csrf": "",
}


def html(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page with the portal's security headers (an error page shows no navigation)."""
    body = _env.get_template(template).render(**{**PAGE_DEFAULTS, **values})
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/portal",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _date(text: str | None, parameter: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise access.AccessError(parameter, f"{parameter}: a date YYYY-MM-DD") from None


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("，", ",").split(",") if part.strip()]


def router(running: Callable[[], Service]) -> APIRouter:
    """The portal's routes under /portal (not in the OpenAPI document)."""
    pages = APIRouter(prefix="/portal", include_in_schema=False)

    def who(service: Service, request: Request, now: dt.datetime) -> tuple[Principal, str]:
        token = request.cookies.get(COOKIE)
        if not token:
            raise Redirect("/portal/login")
        try:
            with transaction(service.db) as session:
                return service.auth.principal(session, f"Bearer {token}", now), token
        except Unauthenticated:
            raise Redirect("/portal/login") from None

    def page_values(service: Service, principal: Principal, token: str, active: str) -> dict[str, Any]:
        with transaction(service.db) as session:
            org = session.scalar(select(Organisation).where(Organisation.code == principal.org))
            org_name, org_type = (org.name, org.type) if org else ("", "")
        return {
            "principal": principal,
            "csrf": csrf_of(token),
            "active": active,
            "org_name": org_name,
            "is_enterprise": org_type == "enterprise",
            "roles": principal.roles,
        }

    async def render(request: Request, work: Callable[..., Response], *args: Any) -> Response:
        """Run ``work(service, principal, token, now, *args)`` off the event loop, as the cookie's
        person; redirects to the login page without one, error pages for refusals and bad forms."""

        def run() -> Response:
            service = running()
            now = dt.datetime.now(dt.UTC)
            principal, token = who(service, request, now)
            return work(service, principal, token, now, *args)

        try:
            return await run_in_threadpool(run)
        except Redirect as redirect:
            return RedirectResponse(redirect.location, status_code=303, headers=HEADERS)
        except Refused as exc:
            return html("error.html", 403, title="拒绝", message=f"操作被拒绝：{exc}")
        except access.AccessError as exc:
            return html("error.html", 400, title="填写有误", message=exc.message)
        except access.NotFound as exc:
            return html("error.html", 404, title="未找到", message=str(exc))
        except PageError as exc:
            return html("error.html", exc.status, title="错误", message=exc.message)

    async def form_checked(request: Request, token_of: Callable[[], str | None]) -> dict[str, str]:
        form = await request.form()
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        expected = token_of()
        if not expected or not hmac.compare_digest(values.get("csrf", ""), expected):
            raise PageError(403, "表单已失效（CSRF 校验失败），请刷新页面后重试")
        values["__columns"] = json.dumps([v for k, v in form.multi_items() if k == "columns"])
        return values

    def logged_in_csrf(request: Request) -> str | None:
        token = request.cookies.get(COOKIE)
        return csrf_of(token) if token else None

    async def posted(request: Request) -> dict[str, str] | Response:
        try:
            return await form_checked(request, lambda: logged_in_csrf(request))
        except PageError as exc:
            return html("error.html", exc.status, title="错误", message=exc.message)

    # -- login, logout ----------------------------------------------------------------------------
    @pages.get("")
    @pages.get("/")
    def home() -> Response:
        return RedirectResponse("/portal/products", status_code=303, headers=HEADERS)

    @pages.get("/login")
    def login_page(request: Request) -> Response:
        nonce = secrets.token_urlsafe(24)
        response = html("login.html", csrf=nonce, error=None)
        _set_cookie(response, request, LOGIN_CSRF_COOKIE, nonce, 3600)
        return response

    @pages.post("/login")
    async def login(request: Request) -> Response:
        try:
            values = await form_checked(request, lambda: request.cookies.get(LOGIN_CSRF_COOKIE))
        except PageError as exc:
            return html("error.html", exc.status, title="错误", message=exc.message)

        def run() -> Response:
            service = running()
            now = dt.datetime.now(dt.UTC)
            client = _client(request)
            login_name = values.get("login", "")[:64].replace("\x00", "")  # PostgreSQL refuses NUL
            with transaction(service.db) as session:
                wait = rate.count(
                    session, f"portal-ip:{client or 'unknown'}", now, service.limits.token_per_minute, None
                )
                if wait is None:
                    outcome = accounts.password_login(
                        session,
                        login_name,
                        values.get("password", "")[:200],
                        service.policy,
                        service.token_keyring,
                        now,
                    )
                    trail.record(
                        session,
                        actor=Actor(outcome.principal),
                        event_type="auth.login",
                        object=outcome.principal,
                        result="success" if outcome.token else "failure",
                        params={"interface": "portal"},
                        client=client,
                        details=outcome.refusal,
                    )
            if wait is not None:
                return html(
                    "error.html", 429, title="请稍后再试", message=f"登录尝试过多，请 {wait} 秒后再试"
                )
            if outcome.token is None:
                nonce = secrets.token_urlsafe(24)
                response = html("login.html", 401, csrf=nonce, error="用户名或密码错误，或账号已锁定")
                _set_cookie(response, request, LOGIN_CSRF_COOKIE, nonce, 3600)
                return response
            response = RedirectResponse("/portal/products", status_code=303, headers=HEADERS)
            _set_cookie(
                response, request, COOKIE, outcome.token, int(service.policy.session_max.total_seconds())
            )
            response.delete_cookie(LOGIN_CSRF_COOKIE, path="/portal")
            return response

        return await run_in_threadpool(run)

    @pages.post("/logout")
    async def logout(request: Request) -> Response:
        values = await posted(request)
        if isinstance(values, Response):
            return values

        def run() -> Response:
            service = running()
            now = dt.datetime.now(dt.UTC)
            token = request.cookies.get(COOKIE, "")
            try:
                with transaction(service.db) as session:
                    principal = accounts.logout(session, service.token_keyring, token, now)
                    trail.record(
                        session,
                        actor=Actor(principal),
                        event_type="auth.logout",
                        object=principal,
                        result="success",
                        client=_client(request),
                    )
            except accounts.AuthenticationError:
                pass  # an expired or unknown session: nothing to end, the cookie goes all the same
            response = RedirectResponse("/portal/login", status_code=303, headers=HEADERS)
            response.delete_cookie(COOKIE, path="/portal")
            return response

        return await run_in_threadpool(run)

    # -- products, indicators ---------------------------------------------------------------------
    @pages.get("/products")
    async def products(request: Request) -> Response:
        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            scores = quality_scores(service)
            shown = [
                {
                    "contract": c,
                    "columns": [c.column(n) for n in published_columns(c)],
                    "score": scores.get(c.name),
                }
                for c in published(service.catalog)
            ]
            return html("products.html", products=shown, **page_values(service, principal, token, "products"))

        return await render(request, work)

    @pages.get("/indicators")
    async def indicators(request: Request) -> Response:
        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            columns, rows = indicator_library(service)
            contract = service.catalog.get("indicator.indicator_definition")
            names = {c: contract.column(c).name_zh for c in columns} if contract else {}
            key = contract.primary_key[0] if contract and contract.primary_key else None
            return html(
                "indicators.html",
                columns=columns,
                names=names,
                rows=rows,
                key=key,
                **page_values(service, principal, token, "indicators"),
            )

        return await render(request, work)

    # -- apply ------------------------------------------------------------------------------------
    @pages.get("/apply")
    async def apply_page(request: Request) -> Response:
        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            name = request.query_params.get("dataset", "")
            contract = access.published_contract(service.catalog, name) if name else None
            important = (
                [
                    contract.column(c)
                    for c in published_columns(contract)
                    if contract.column(c).classification == "重要"
                ]
                if contract
                else []
            )
            return html(
                "apply.html",
                contract=contract,
                important=important,
                datasets=[c for c in published(service.catalog)],
                chosen=set(request.query_params.getlist("columns")),
                purpose=request.query_params.get("purpose", "")[:200],
                default_expiry=(now + dt.timedelta(days=90)).date().isoformat(),
                max_expiry=access.max_expiry(now).date().isoformat(),
                **page_values(service, principal, token, "apply"),
            )

        return await render(request, work)

    @pages.post("/apply")
    async def apply(request: Request) -> Response:
        values = await posted(request)
        if isinstance(values, Response):
            return values

        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            form = access.ApplicationForm(
                dataset=values.get("dataset", ""),
                columns=json.loads(values["__columns"]),
                purpose=values.get("purpose", ""),
                cities=_split(values.get("cities")),
                chains=_split(values.get("chains")),
                own_enterprise=values.get("own_enterprise") == "on",
                period_from=_date(values.get("period_from"), "period_from"),
                period_to=_date(values.get("period_to"), "period_to"),
                expires_on=_date(values.get("expires_on"), "expires_on"),
            )
            ctx = access.Context(uuid.uuid4().hex, _client(request))
            row = access.submit(
                service.db,
                principal,
                service.catalog,
                form,
                lambda uscc: enterprise_ids(service, uscc),
                now,
                ctx,
            )
            raise Redirect(f"/portal/mine?submitted={row.id}")

        return await render(request, work)

    # -- my applications, grants, notices ---------------------------------------------------------
    @pages.get("/mine")
    async def mine(request: Request) -> Response:
        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            with transaction(service.db) as session:
                applications = access.applications_of(session, principal)
                grants = [(g, access.grant_status(g, now)) for g in access.grants_of(session, principal)]
                notices = access.notices_of(session, principal)
            return html(
                "mine.html",
                applications=applications,
                grants=grants,
                notices=notices,
                submitted=request.query_params.get("submitted"),
                **page_values(service, principal, token, "mine"),
            )

        return await render(request, work)

    # -- the owner's approval queue ---------------------------------------------------------------
    @pages.get("/queue")
    async def queue(request: Request) -> Response:
        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            with transaction(service.db) as session:
                pending = access.queue_of(session, principal, service.catalog)
                grants = [
                    (g, access.grant_status(g, now))
                    for g in access.owned_grants(session, principal, service.catalog)
                ]
            return html(
                "queue.html",
                pending=pending,
                grants=grants,
                owned=access.owned_datasets(principal, service.catalog),
                max_expiry=access.max_expiry(now).date().isoformat(),
                **page_values(service, principal, token, "queue"),
            )

        return await render(request, work)

    def owner_action(
        action: Callable[[Service, Principal, dict[str, str], dt.datetime, access.Context], None],
    ):
        async def endpoint(request: Request, item_id: int) -> Response:
            values = await posted(request)
            if isinstance(values, Response):
                return values
            if not 1 <= item_id <= 2_147_483_647:
                return html("error.html", 404, title="未找到", message="没有这一项")

            def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
                ctx = access.Context(uuid.uuid4().hex, _client(request))
                action(service, principal, {**values, "id": str(item_id)}, now, ctx)
                raise Redirect("/portal/queue")

            return await render(request, work)

        return endpoint

    def decide_action(service, principal, values, now, ctx) -> None:
        access.decide_application(
            service.db,
            principal,
            service.catalog,
            int(values["id"]),
            values.get("decision") == "approve",
            values.get("reason", ""),
            now,
            ctx,
        )

    def renew_action(service, principal, values, now, ctx) -> None:
        access.renew(
            service.db,
            principal,
            service.catalog,
            int(values["id"]),
            _date(values.get("expires_on"), "expires_on"),
            now,
            ctx,
        )

    def revoke_action(service, principal, values, now, ctx) -> None:
        access.revoke(
            service.db, principal, service.catalog, int(values["id"]), values.get("reason", ""), now, ctx
        )

    pages.add_api_route("/applications/{item_id}/decision", owner_action(decide_action), methods=["POST"])
    pages.add_api_route("/grants/{item_id}/renew", owner_action(renew_action), methods=["POST"])
    pages.add_api_route("/grants/{item_id}/revoke", owner_action(revoke_action), methods=["POST"])

    # -- an enterprise's own records (一企一档) and its objections (数据异议) -------------------------
    def own_org(service: Service, principal: Principal) -> Organisation:
        with transaction(service.db) as session:
            org = session.scalar(select(Organisation).where(Organisation.code == principal.org))
        if org is None or org.type != "enterprise" or not org.uscc:
            raise PageError(403, "一企一档与数据异议仅向企业用户开放")
        return org

    @pages.get("/enterprise")
    async def enterprise(request: Request) -> Response:
        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            org = own_org(service, principal)
            ids = enterprise_ids(service, org.uscc or "")
            records = own_records(service, principal, ids, _client(request)) if ids else []
            with transaction(service.db) as session:
                filed = access.objections(session, org=org.code)
            shown = [
                {
                    "records": r,
                    "names": {c: r.contract.column(c).name_zh for c in r.columns},
                    "record_keys": [
                        json.dumps(
                            {k: str(row[k]) for k in r.contract.primary_key},
                            ensure_ascii=False,
                            sort_keys=True,
                        )
                        for row in r.rows
                    ],
                }
                for r in records
            ]
            return html(
                "enterprise.html",
                org=org,
                ids=ids,
                datasets=shown,
                objections=filed,
                **page_values(service, principal, token, "enterprise"),
            )

        return await render(request, work)

    def record_key(text: str) -> dict[str, str]:
        try:
            key = json.loads(text)
        except ValueError:
            key = None
        if not isinstance(key, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in key.items()
        ):
            raise access.AccessError("record_key", "record_key: not a record of this page")
        return key

    @pages.get("/objection")
    async def objection_page(request: Request) -> Response:
        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            own_org(service, principal)
            contract = access.published_contract(service.catalog, request.query_params.get("dataset", ""))
            key_text = request.query_params.get("key", "")[:2000]
            key = record_key(key_text)
            columns = [contract.column(c) for c in published_columns(contract)]
            return html(
                "objection.html",
                contract=contract,
                key=key,
                key_text=key_text,
                columns=columns,
                **page_values(service, principal, token, "enterprise"),
            )

        return await render(request, work)

    @pages.post("/objection")
    async def objection(request: Request) -> Response:
        values = await posted(request)
        if isinstance(values, Response):
            return values

        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            ctx = access.Context(uuid.uuid4().hex, _client(request))
            access.file_objection(
                service.db,
                principal,
                service.catalog,
                values.get("dataset", ""),
                record_key(values.get("record_key", "")),
                values.get("column") or None,
                values.get("description", ""),
                lambda uscc: enterprise_ids(service, uscc),
                now,
                ctx,
            )
            raise Redirect("/portal/enterprise")

        return await render(request, work)

    # -- the auditor's trail view -----------------------------------------------------------------
    @pages.get("/audit")
    async def audit(request: Request) -> Response:
        def work(service: Service, principal: Principal, token: str, now: dt.datetime) -> Response:
            filters = {
                k: (request.query_params.get(k) or "").strip()[:128] or None
                for k in ("actor", "object", "event")
            }
            decision = decide(principal, "audit.read", now=now)
            with transaction(service.db) as session:
                trail.record(
                    session,
                    actor=decision.actor,
                    event_type="audit.search",
                    object="audit_trail",
                    result="success" if decision.allowed else "refused",
                    params={"interface": "portal", **{k: v for k, v in filters.items() if v}},
                    client=_client(request),
                    details=decision.reason or None,
                )
            if not decision.allowed:
                raise Refused(decision.reason)
            records = search(service.db, limit=500, **filters)
            return html(
                "audit.html",
                records=list(reversed(records)),
                filters=filters,
                **page_values(service, principal, token, "audit"),
            )

        return await render(request, work)

    return pages
