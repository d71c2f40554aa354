"""Routes of the cockpit: the home page (one front door), login, the dashboards and downloads.

The pages carry no data: their scripts (static/cockpit.js, static/boards.js) fetch the API
products with the session cookie. A download re-reads the same API query as the person (same
grants, masking and audit — ``Service.read``) and writes CSV or XLSX with formula neutralisation.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

import pyarrow as pa
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook

from catalog.publishing import published
from security.db import transaction
from security.identity.accounts import Principal
from serving.api.auth import Unauthenticated
from serving.cockpit import session as cookies
from serving.formats import json_value, neutralise, to_csv

if TYPE_CHECKING:
    from serving.api.app import Service

HERE = Path(__file__).resolve().parent
BOARDS = (
    ("economy", "经济运行监测", "省、市规上工业产值、营收、利润及环比同比；地市排名；行业大类与产业链构成"),
    ("chain", "产业链图谱", "试点产业链上中下游环节、链主候选、单一来源供应风险、分环节产值"),
    ("capacity", "产能共享", "闲置产能与在手订单按月对比、撮合清单、联网设备利用率"),
    ("devices", "设备联网", "联网设备数；按地市、产业链的运行、待机、故障时长"),
    ("quality", "数据质量", "按维度、数据集的质量评分及趋势，未关闭问题"),
)
# pages and their scripts: scripts only from files of this service, no inline script; ECharts sets
# element styles, so inline styles are allowed (styles cannot run code)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
MAX_EXPORT_PAGES = 20  # 20,000 rows: the chart-ready products are far smaller
DAGSTER_URL = "http://127.0.0.1:3000"

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(("html", "j2")),
    auto_reload=False,
)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _page(name: str, request: Request, **context: Any) -> HTMLResponse:
    value = cookies.csrf(request)
    html = templates.get_template(name).render(csrf=value, **context)
    response = HTMLResponse(html, headers={"Cache-Control": "no-store"})
    cookies.set_csrf(response, value, _secure(request))
    return response


def _safe_next(target: str | None) -> str:
    """Only a path of this service (no scheme, no host, no //) may follow a login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/cockpit/"


def mount(app: FastAPI, running: Callable[[], Service]) -> None:
    """Add the home page, the cockpit's pages, downloads and static files to ``app``."""
    app.mount("/cockpit/static", StaticFiles(directory=HERE / "static"), name="cockpit-static")

    @app.middleware("http")
    async def _csp(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        path = request.url.path
        if path == "/" or path.startswith("/cockpit"):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["X-Frame-Options"] = "DENY"
        return response

    def whoami(request: Request) -> Principal | None:
        service = running()
        authorization = cookies.authorization(request)
        if authorization is None:
            return None
        try:
            with transaction(service.db) as session:
                return service.auth.principal(session, authorization, dt.datetime.now(dt.UTC))
        except Unauthenticated:
            return None

    def login_redirect(request: Request) -> RedirectResponse:
        return RedirectResponse("/cockpit/login?next=" + url_quote(request.url.path), status_code=303)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        person = whoami(request)
        admin = bool(person and "system_admin" in person.roles)
        return _page("home.html", request, person=person, boards=BOARDS, admin=admin, dagster=DAGSTER_URL)

    @app.get("/cockpit/login", include_in_schema=False)
    def login_form(request: Request, next: str | None = None) -> Response:
        return _page("login.html", request, next=_safe_next(next), error=None, person=None)

    @app.post("/cockpit/login", include_in_schema=False)
    def login(
        request: Request,
        login: str = Form(max_length=64),
        password: str = Form(max_length=200),
        csrf: str = Form(max_length=64),
        next: str = Form("/cockpit/", max_length=300),
    ) -> Response:
        if not cookies.csrf_ok(request, csrf):
            return _page(
                "login.html", request, next=_safe_next(next), error="页面已过期，请重新登录", person=None
            )
        service = running()
        client = request.client.host if request.client else None
        outcome = cookies.login(service.db, service.token_keyring, service.policy, login, password, client)
        if outcome.token is None:
            error = "登录失败：用户名或密码错误，或账号已锁定"
            return _page("login.html", request, next=_safe_next(next), error=error, person=None)
        response = RedirectResponse(_safe_next(next), status_code=303)
        cookies.set_session(response, outcome.token, outcome.expires_at, _secure(request))
        return response

    @app.post("/cockpit/logout", include_in_schema=False)
    def logout(request: Request, csrf: str = Form(max_length=64)) -> Response:
        response = RedirectResponse("/", status_code=303)
        if cookies.csrf_ok(request, csrf):
            service = running()
            cookies.end(service.db, service.token_keyring, request)
            cookies.clear(response)
        return response

    @app.get("/cockpit/", include_in_schema=False)
    def index(request: Request) -> Response:
        person = whoami(request)
        if person is None:
            return login_redirect(request)
        return _page("index.html", request, person=person, boards=BOARDS)

    for board, title, _summary in BOARDS:

        def page(request: Request, board: str = board, title: str = title) -> Response:
            person = whoami(request)
            if person is None:
                return login_redirect(request)
            return _page("board.html", request, person=person, board=board, title=title, boards=BOARDS)

        app.add_api_route(f"/cockpit/{board}", page, methods=["GET"], include_in_schema=False)

    @app.get("/cockpit/export/{layer}/{table}.{fmt}", include_in_schema=False)
    def export(request: Request, layer: str, table: str, fmt: str) -> Response:
        service = running()
        contracts = {c.name: c for c in published(service.catalog)}
        contract = contracts.get(f"{layer}.{table}")
        if contract is None or fmt not in ("csv", "xlsx"):
            return Response("no such download", status_code=404, media_type="text/plain; charset=utf-8")
        items = [(k, v) for k, v in request.query_params.multi_items() if k not in ("format", "cursor")]
        pages: list[pa.Table] = []
        cursor = None
        for _ in range(MAX_EXPORT_PAGES):
            query = [*items, ("format", "arrow"), *([("cursor", cursor)] if cursor else [])]
            if not any(k == "page_size" for k, _ in items):
                query.append(("page_size", str(min(1000, contract.api.max_page_size))))  # type: ignore[union-attr]
            sub = Request({**request.scope, "query_string": urlencode(query).encode()})
            answer = service.read(contract, sub, deadline=_deadline(service))
            reader = pa.ipc.open_stream(answer.body)
            pages.append(reader.read_all())
            cursor = answer.headers.get("X-Next-Cursor")
            if not cursor:
                break
        data = pa.concat_tables(pages) if pages else pa.table({})
        names = {c.name: c.name_zh for c in contract.columns}
        data = data.rename_columns([names.get(n, n) for n in data.column_names])
        stem = f"{contract.layer}.{contract.table}"
        if fmt == "csv":
            body, media = to_csv(data), "text/csv; charset=utf-8"
        else:
            body, media = (
                to_xlsx(data, stem),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        disposition = f'attachment; filename="{stem}.{fmt}"'
        return Response(body, media_type=media, headers={"Content-Disposition": disposition,
                                                         "Cache-Control": "no-store"})  # fmt: skip


def _deadline(service: Service) -> float:
    return time.monotonic() + service.limits.timeout_seconds


def to_xlsx(data: pa.Table, title: str) -> bytes:
    """One sheet: a header row, typed cells; text starting like a formula gets a leading ' (as CSV)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(data.column_names)
    for row in data.to_pylist():
        cells = []
        for value in row.values():
            if isinstance(value, str):
                cells.append(neutralise(value))
            elif value is None or isinstance(value, bool | int | float | dt.date):
                cells.append(value)
            else:
                cells.append(float(json_value(value)))  # decimals: exact text → the nearest double
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
