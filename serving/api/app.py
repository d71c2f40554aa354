"""The data service (数据交换共享 API): API products generated from the contracts (issue 14).

Every dataset whose contract has an ``api`` block is served at ``/v<version>/<layer>/<table>``;
nothing else is reachable (a dataset name resolves only through the published contracts). Per
request: the bearer token is resolved (401), the parameters validated (400 naming the parameter),
the rate limit and quota looked at (429 with Retry-After), the caller's grants read, the page
read at one Delta version (``ETag``) with the row scopes in the SQL, 重要 values masked where no
grant covers them, and the read counted and audited in one transaction (security.audit.trail).
Swagger UI and ReDoc are served from vendored files (serving/api/static, no CDN).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from catalog.contracts import Contract
from catalog.publishing import published
from security.actor import Actor
from security.audit import trail
from security.db import read_transaction, transaction
from security.identity.accounts import Principal, app_login
from security.identity.config import IdentityPolicy
from security.keys import Keyring
from serving import cursor as cursors
from serving.api import limits as rate
from serving.api.auth import Authenticator, Unauthenticated
from serving.api.openapi import ERROR, STATUS_TEXT, dataset_operation, finish_openapi
from serving.cockpit import pages as cockpit
from serving.cockpit import session as cockpit_session
from serving.engine import Reader, TableUnavailable
from serving.formats import MEDIA_TYPES, rows, to_arrow, to_csv, to_json
from serving.grants import grants_for
from serving.portal.routes import install as install_portal
from serving.query import ParamError, parse_request
from serving.reads import Refused, apply_masks, plan

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
SERVICE = Actor("system:data-service")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
APP_KEY = re.compile(r"^ak_[0-9a-f]{16}$")
TITLE = "产业大脑 数据服务 · Industry Brain data service"


@dataclass
class Failure(Exception):
    """An answer other than 200: status, code, message, and the parameter or column it names."""

    status: int
    code: str
    message: str
    parameter: str | None = None
    headers: dict[str, str] | None = None


def _safe(name: str) -> str:
    """A caller-supplied name as it may appear in an answer (never longer than 64 characters)."""
    return name if SAFE_NAME.match(name) else "(unrecognised parameter)"


def error_response(failure: Failure) -> JSONResponse:
    body: dict[str, Any] = {"code": failure.code, "message": failure.message}
    if failure.parameter is not None:
        body["parameter"] = failure.parameter
    headers = dict(failure.headers or {})
    if failure.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    headers["Cache-Control"] = "no-store"
    return JSONResponse({"error": body}, status_code=failure.status, headers=headers)


def authorization(http: Request) -> str | None:
    """The bearer token of the Authorization header, else a cockpit session cookie's (a person's
    login session token: the same checks, grants, masking and audit)."""
    return http.headers.get("authorization") or cockpit_session.authorization(http)


@dataclass
class Service:
    """What every request needs: the published contracts, the lake reader, the state database,
    the token verifier, the masking secret and the limits."""

    catalog: dict[str, Contract]
    reader: Reader
    db: Engine
    auth: Authenticator
    token_keyring: Keyring
    policy: IdentityPolicy
    masking_secret: bytes
    limits: rate.Limits

    def __post_init__(self) -> None:
        self.cursor_key = cursors.cursor_key(self.masking_secret)

    # -- one read ---------------------------------------------------------------------------------
    def read(self, contract: Contract, http: Request, deadline: float) -> Response:
        now = dt.datetime.now(dt.UTC)
        request_id = uuid.uuid4().hex
        client = http.client.host if http.client else None
        dataset = contract.name
        credentials = authorization(http)
        # an app's token only reads here: no write lock (one per request, below, with the audit)
        reads_only = self.auth.reads_only(credentials, now)
        try:
            with read_transaction(self.db) if reads_only else transaction(self.db) as session:
                principal = self.auth.principal(session, credentials, now)
                wait = rate.exceeded(
                    session, principal.name, now, self.limits.per_minute, self.limits.per_day
                )
                grants = grants_for(
                    session, principal=principal.name, org=principal.org, dataset=dataset, now=now
                )
        except Unauthenticated as exc:
            with transaction(self.db) as session:
                trail.record(
                    session, actor=SERVICE, event_type="auth.token", object=dataset, result="refused",
                    params={"reason": str(exc)}, request_id=request_id, client=client,
                )  # fmt: skip
            raise Failure(401, "unauthenticated", str(exc)) from None
        actor = principal.actor()

        def refuse(status: int, code: str, message: str, parameter: str | None, **extra: Any) -> Failure:
            with transaction(self.db) as session:
                trail.record(
                    session, actor=actor, event_type="data.read", object=dataset, result="refused",
                    params={"status": status, "reason": code, "parameter": parameter, **extra},
                    request_id=request_id, client=client,
                )  # fmt: skip
            return Failure(status, code, message, parameter, extra.get("headers"))

        if wait is not None:
            raise refuse(429, "rate_limited", "request limit reached; retry later", None,
                         headers={"Retry-After": str(wait)})  # fmt: skip
        try:
            request = parse_request(contract, list(http.query_params.multi_items()))
        except ParamError as exc:
            shown = _safe(exc.parameter)
            message = exc.message if shown == exc.parameter else "unrecognised parameter"
            raise refuse(exc.status, "bad_parameter", message, shown) from None
        digest = cursors.request_digest(request.fingerprint())
        try:
            if request.cursor:
                position = cursors.decode(self.cursor_key, request.cursor, dataset, digest)
                version, offset = position.version, position.offset
                handle = self.reader.at(contract, version)
            else:
                version, handle = self.reader.latest(contract)
                offset = 0
        except cursors.CursorError as exc:
            raise refuse(400, "bad_parameter", str(exc), "cursor") from None
        except TableUnavailable as exc:
            raise refuse(410 if request.cursor else 503, "unavailable", str(exc), None) from None
        try:
            page_plan = plan(contract, request, grants, offset)
        except Refused as exc:
            raise refuse(403, "masked_column", str(exc), _safe(exc.parameter), column=exc.column) from None
        if time.monotonic() > deadline:  # waited too long for a thread: answer before the query
            raise refuse(503, "timeout", "the service is busy; retry later", None,
                         headers={"Retry-After": "1"})  # fmt: skip
        result = self.reader.query(handle, page_plan.select_sql)
        total = self.reader.count(contract, version, handle, page_plan.count_sql)
        as_of = self.reader.as_of(contract, version, handle)
        page, outside_scope = apply_masks(contract, result, page_plan.seen, self.masking_secret)
        if time.monotonic() > deadline:
            raise refuse(503, "timeout", "the read took too long; narrow the filters or the page", None)
        seen = page_plan.seen
        # masked: columns without a grant, and granted ones masked on rows outside the grants' scope
        masked = {c: contract.column(c).masking for c in (*seen.masked, *outside_scope)}
        next_offset = offset + page.num_rows
        next_cursor = (
            cursors.encode(self.cursor_key, cursors.Cursor(dataset, version, next_offset, digest))
            if page.num_rows and next_offset < total
            else None
        )
        audit = {
            "version": version,
            "format": request.format,
            "filters": [f"{f.column} {f.operator} {','.join(f.literals)}" for f in request.filters],
            "sort": [f"{'-' if d else ''}{c}" for c, d in request.sort],
            "offset": offset,
            "columns": seen.served,
            "masked": sorted(masked),
            "withheld": list(seen.withheld),
            "scope": [g.summary() for g in grants],
            "restricted_to_grants": page_plan.restricted_to_grants,
            "rows": page.num_rows,
        }
        with transaction(self.db) as session:
            wait = rate.count(session, principal.name, now, self.limits.per_minute, self.limits.per_day)
            trail.record(
                session, actor=actor, event_type="data.read", object=dataset,
                result="refused" if wait else "success", params=audit, request_id=request_id, client=client,
            )  # fmt: skip
        if wait is not None:
            raise Failure(
                429, "rate_limited", "request limit reached; retry later", None, {"Retry-After": str(wait)}
            )
        headers = {
            "ETag": f'"{version}"',
            "X-Delta-Version": str(version),
            "X-Total-Count": str(total),
            "X-Masked-Columns": ",".join(sorted(masked)),
            "X-Withheld-Columns": ",".join(seen.withheld),
            "X-Request-Id": request_id,
            "Cache-Control": "no-store",
        }
        if as_of:
            headers["X-Data-As-Of"] = as_of
        if next_cursor:
            headers["X-Next-Cursor"] = next_cursor
        if request.format == "csv":
            body = to_csv(page)
        elif request.format == "arrow":
            meta = {"dataset": dataset, "version": str(version), "as_of": as_of or "", "total": str(total),
                    "masked": ",".join(sorted(masked)), "withheld": ",".join(seen.withheld),
                    "next_cursor": next_cursor or ""}  # fmt: skip
            body = to_arrow(page, meta)
        else:
            body = to_json(
                {
                    "dataset": dataset,
                    "version": version,
                    "as_of": as_of,
                    "total": total,
                    "offset": offset,
                    "page_size": request.page_size,
                    "next_cursor": next_cursor,
                    "masked": masked,
                    "withheld": list(seen.withheld),
                    "rows": rows(page),
                }
            )
        return Response(body, media_type=MEDIA_TYPES[request.format], headers=headers)

    # -- tokens -----------------------------------------------------------------------------------
    def token(self, app_key: str, app_secret: str, client: str | None) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        request_id = uuid.uuid4().hex
        key = f"ip:{client or 'unknown'}"
        with transaction(self.db) as session:
            wait = rate.count(session, key, now, self.limits.token_per_minute, None)
            if wait is not None:
                trail.record(
                    session, actor=SERVICE, event_type="auth.token", object="token", result="refused",
                    params={"reason": "rate limited"}, request_id=request_id, client=client,
                )  # fmt: skip
        if wait is not None:
            raise Failure(
                429, "rate_limited", "too many token requests; retry later", None, {"Retry-After": str(wait)}
            )
        if not APP_KEY.match(app_key) or not app_secret or len(app_secret) > 200:
            raise Failure(401, "unauthenticated", "wrong app key or secret")
        actor = Actor(f"app:{app_key}")
        with transaction(self.db) as session:
            outcome = app_login(session, app_key, app_secret, self.policy, self.token_keyring, now)
            trail.record(
                session, actor=actor, event_type="auth.token", object=actor.principal,
                result="success" if outcome.token else "refused",
                params={"reason": outcome.refusal} if outcome.refusal else {},
                request_id=request_id, client=client,
            )  # fmt: skip
        if outcome.token is None:
            raise Failure(401, "unauthenticated", outcome.refusal or "wrong app key or secret")
        return {
            "access_token": outcome.token,
            "token_type": "bearer",
            "expires_at": outcome.expires_at.isoformat() if outcome.expires_at else None,
        }

    def datasets(self, http: Request) -> list[dict[str, Any]]:
        """The API products (names, columns with grade; 核心 columns not listed)."""
        now = dt.datetime.now(dt.UTC)
        with transaction(self.db) as session:
            principal: Principal = self.auth.principal(session, authorization(http), now)
            del principal
        products = []
        for contract in published(self.catalog):
            api = contract.api
            assert api is not None
            products.append(
                {
                    "dataset": contract.name,
                    "path": f"/v{api.version}/{contract.layer}/{contract.table}",
                    "name_zh": contract.name_zh,
                    "name_en": contract.name_en,
                    "owner": contract.owner,
                    "update_frequency": contract.update_frequency,
                    "columns": [
                        {
                            "name": c.name,
                            "name_zh": c.name_zh,
                            "grade": c.classification,
                            "masking": c.masking if c.classification == "重要" else None,
                        }
                        for c in contract.columns
                        if c.classification != "核心" and c.name not in api.exclude
                    ],
                }
            )
        return products


def openapi_document(catalog: dict[str, Contract]) -> dict[str, Any]:
    """The OpenAPI document of ``catalog``'s API products (what serving/openapi/v1.json holds)."""
    return create_app(None, catalog).openapi()


def create_app(service: Service | None, catalog: dict[str, Contract] | None = None) -> FastAPI:
    """The FastAPI application of ``service``: one GET operation per published dataset of
    ``catalog`` (default: the service's). Without a service (only to describe the API) every
    operation answers 503."""
    if catalog is None:
        if service is None:
            raise ValueError("create_app needs a service or a catalog")
        catalog = service.catalog

    def running() -> Service:
        if service is None:
            raise Failure(503, "unavailable", "this application only describes the API")
        return service

    app = FastAPI(title=TITLE, version="1", docs_url=None, redoc_url=None, openapi_url="/v1/openapi.json")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(Failure)
    async def _failure(_request: Request, exc: Failure) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(_request: Request, exc: Unauthenticated) -> JSONResponse:
        return error_response(Failure(401, "unauthenticated", str(exc)))

    @app.exception_handler(404)
    async def _not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return error_response(Failure(404, "not_found", "no such published dataset or path"))

    @app.exception_handler(405)
    async def _not_allowed(_request: Request, _exc: Exception) -> JSONResponse:
        return error_response(Failure(405, "method_not_allowed", "method not allowed"))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        location = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "form")]
        parameter = _safe(location[-1]) if location else None
        return error_response(
            Failure(422, "bad_parameter", f"{parameter}: {first.get('msg', 'invalid')}", parameter)
        )

    def register(contract: Contract) -> None:
        api = contract.api
        assert api is not None

        async def endpoint(request: Request) -> Response:
            current = running()
            deadline = time.monotonic() + current.limits.timeout_seconds
            try:
                return await asyncio.wait_for(
                    run_in_threadpool(current.read, contract, request, deadline),
                    current.limits.timeout_seconds + 5,
                )
            except TimeoutError:
                raise Failure(
                    503, "timeout", "the read took too long; narrow the filters or the page"
                ) from None

        operation = dataset_operation(contract)
        app.add_api_route(
            f"/v{api.version}/{contract.layer}/{contract.table}",
            endpoint,
            methods=["GET"],
            name=contract.name,
            operation_id=operation["operationId"],
            summary=operation["summary"],
            description=operation["description"],
            tags=[contract.layer],
            response_class=Response,
            responses=operation["responses"],
            openapi_extra={"parameters": operation["parameters"], "security": [{"bearer": []}]},
        )

    for contract in published(catalog):
        register(contract)
    cockpit.mount(app, running)
    install_portal(app, running)  # 数据申请 → 审批 → 授权 (/v1) and the 数据门户 pages (/portal)

    def errors(*statuses: str) -> dict[int | str, dict[str, Any]]:
        """The documented error answers (the Error schema) of an operation."""
        texts = {**STATUS_TEXT, "422": "参数错误 · a missing or malformed field (named in the body)"}
        return {
            s: {"description": texts[s], "content": {"application/json": {"schema": ERROR}}} for s in statuses
        }

    @app.get("/v1/datasets", tags=["catalog"], summary="数据产品目录 · API products",
             openapi_extra={"security": [{"bearer": []}]}, responses=errors("401"))  # fmt: skip
    def datasets(request: Request) -> list[dict[str, Any]]:
        return running().datasets(request)

    @app.post("/v1/token", tags=["auth"], summary="换取访问令牌 · exchange AppKey + AppSecret for a token",
              responses=errors("401", "422", "429"))  # fmt: skip
    def token(request: Request, app_key: str = Form(max_length=64), app_secret: str = Form(max_length=200)):
        return running().token(app_key, app_secret, request.client.host if request.client else None)

    from serving.alerts import routes as alert_routes
    from serving.brief import routes as brief_routes

    brief_routes.add_routes(app, running, Failure)
    alert_routes.add_routes(app, running, Failure)

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/v1/openapi.json", title=TITLE, swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css", swagger_favicon_url="/static/favicon-32x32.png",
        )  # fmt: skip

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/v1/openapi.json", title=TITLE, redoc_js_url="/static/redoc.standalone.js",
            redoc_favicon_url="/static/favicon-32x32.png", with_google_fonts=False,
        )  # fmt: skip

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=TITLE, version="1", routes=app.routes, description=DESCRIPTION)
            app.openapi_schema = finish_openapi(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


DESCRIPTION = (
    "数据交换共享 API：按目录合同发布的数据产品。一般数据向注册应用开放；重要数据仅在授权范围内明文，"
    "否则按脱敏规则脱敏或不予提供；核心数据不予共享。\n\n"
    "Data-exchange API: the API products published by the catalog contracts. 一般 columns are open to "
    "any registered app; 重要 columns are clear only within a grant's columns and row scope, otherwise "
    "masked by their rule or withheld; 核心 columns are never served. Authenticate with "
    "`Authorization: Bearer <token>` (POST /v1/token with AppKey and AppSecret)."
)
