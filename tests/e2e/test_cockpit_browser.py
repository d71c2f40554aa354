"""The cockpit in a real browser (issue 16): Playwright for Python driving Debian's chromium over
the data service on loopback, reading the session demo lake (read-only; a private state database).

Figures shown are checked against sums computed here straight from the Delta tables (deltalake +
pyarrow, not the service's code); the person's views are checked in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
from deltalake import DeltaTable
from sqlalchemy import select

from ibrain.settings import Settings
from security.audit.models import AuditRecord
from security.db import transaction
from security.grants import Grant
from security.identity import accounts
from serving.api.server import build_service
from tests.support.browser import require_chromium
from tests.support.data_service import serve

pytestmark = [pytest.mark.e2e]
playwright_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "Cockpit-Pass-2024"
TABLE_JS = """([panel, k, v]) => Object.fromEntries(
  [...document.querySelectorAll(`#table-${panel} tbody tr`)].map(tr => [
    tr.querySelector(`td[data-key=${k}]`).textContent,
    (x => x === '' ? null : Number(x))(tr.querySelector(`td[data-key=${v}]`).dataset.value)]))"""
CITY = "210200"  # 大连市


@pytest.fixture(scope="module")
def cockpit(demo_lake, tmp_path_factory) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("cockpit")
    settings = Settings.from_env(demo_lake.env)
    service = build_service(settings, db_url=f"sqlite:///{base / 'state.db'}")
    now = dt.datetime.now(dt.UTC)
    with transaction(service.db) as session:
        accounts.create_org(session, "ana", "产业分析中心", "gov_bureau", "210000")
        accounts.create_user(session, "ana1", "分析员", "ana", PASSWORD)
        accounts.create_org(session, "dl", "大连市工信局", "gov_bureau", CITY)
        accounts.create_user(session, "dl1", "大连分析员", "dl", PASSWORD)
        for contract in service.catalog.values():
            if contract.api is None:
                continue
            important = json.dumps([c.name for c in contract.columns if c.classification == "重要"])
            common = {"dataset": contract.name, "columns": important, "granted_by": "user:analyst",
                      "granted_at": now, "expires_at": now + dt.timedelta(days=30)}  # fmt: skip
            session.add(Grant(grantee_org="ana", **common))
            if "city" in contract.api.scope:
                session.add(Grant(grantee_org="dl", cities=json.dumps([CITY]), **common))
    with serve(service) as url:
        yield {"url": url, "service": service, "lake": Path(demo_lake.env["IBRAIN_LAKE_ROOT"])}


@pytest.fixture(scope="module")
def browser(cockpit) -> Iterator[object]:
    exe = require_chromium()
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=exe, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


class Session:
    """One person's page: console errors and every requested host recorded."""

    def __init__(self, browser, url: str, login: str) -> None:
        self.url = url
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.hosts.add(urlparse(r.url).netloc))
        self.page.goto(f"{url}/cockpit/login?next=/cockpit/")
        self.page.fill("input[name=login]", login)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{url}/cockpit/")

    def open(self, board: str) -> float:
        started = time.monotonic()
        self.page.goto(f"{self.url}/cockpit/{board}")
        self.page.wait_for_selector("body[data-ready='1']", timeout=30000)
        return time.monotonic() - started

    def change(self, action) -> float:
        n = int(self.page.get_attribute("body", "data-ready"))
        started = time.monotonic()
        action()
        self.page.wait_for_selector(f"body[data-ready='{n + 1}']", timeout=30000)
        assert self.page.get_attribute("body", "data-failed") is None
        return time.monotonic() - started

    def select(self, key: str, value: str) -> float:
        return self.change(lambda: self.page.select_option(f"#f-{key}", value))

    def table(self, panel: str, key_column: str, value_column: str) -> dict[str, float | None]:
        """A 查看数据 table as {key cell: raw number of the value cell (data-value)}."""
        return self.page.evaluate(TABLE_JS, [panel, key_column, value_column])

    def chart(self, panel: str) -> dict:
        return self.page.evaluate(
            "p => { const o = echarts.getInstanceByDom(document.getElementById('chart-' + p)).getOption();"
            " return {axis: (o.yAxis[0].data || o.xAxis[0].data), series: o.series.map(s => s.data.map("
            "d => d === null || d === undefined ? null : (typeof d === 'object' ? d.value : d)))}; }",
            panel,
        )


def read(lake: Path, table: str) -> list[dict]:
    return DeltaTable(str(lake / table)).to_pyarrow_table().to_pylist()


def sums(rows: list[dict], key: str, value: str) -> dict[str, float | None]:
    out: dict[str, Decimal | float] = {}
    for row in rows:
        if row[value] is not None:
            out[row[key]] = out.get(row[key], 0) + row[value]
    return {k: round(float(v), 2) for k, v in out.items()}


def latest(rows: list[dict]) -> dt.date:
    return max(r["period"] for r in rows)


def test_economy_dashboard(cockpit, browser, tmp_path) -> None:
    lake = cockpit["lake"]
    eco = read(lake, "theme/economic_operation_month")
    month = latest(eco)
    person = Session(browser, cockpit["url"], "ana1")
    first = person.open("economy")
    names = {r["city_code"]: r["city_name"] for r in eco}
    expected = sums([r for r in eco if r["period"] == month], "city_code", "gross_output")
    assert person.table("cities", "city_name", "gross_output") == {names[k]: v for k, v in expected.items()}
    chart = person.chart("cities")
    assert dict(zip(chart["axis"], chart["series"][0], strict=True)) == {
        names[k]: v for k, v in expected.items()
    }
    # month and city change: the division breakdown of 大连 the month before
    before = dt.date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    t_month = person.select("month", before.isoformat()[:7])
    t_city = person.select("city", CITY)
    cell = [r for r in eco if r["period"] == before and r["city_code"] == CITY]
    divisions = {r["division_code"]: r["division_name"] for r in cell}
    by_division = sums(cell, "division_code", "gross_output")
    assert person.table("divisions", "division_name", "gross_output") == {
        divisions[k]: v for k, v in by_division.items()
    }
    # drill down once: the largest division → its chain breakdown
    top = max(by_division, key=lambda k: by_division[k])
    t_drill = person.change(lambda: person.page.evaluate("([c, n]) => Cockpit.drill('division', c, n)",
                                                         [top, divisions[top]]))  # fmt: skip
    chains = sums([r for r in cell if r["division_code"] == top], "chain_name_zh", "gross_output")
    assert person.table("chains", "chain_name_zh", "gross_output") == chains
    assert person.chart("chains")["series"][0] == [chains[k] for k in person.chart("chains")["axis"]]
    person.page.screenshot(path=str(tmp_path / "economy.png"), full_page=True)
    assert not person.errors, person.errors
    assert person.hosts == {urlparse(cockpit["url"]).netloc}
    print(
        f"economy: first paint {first:.2f}s, month {t_month:.2f}s, city {t_city:.2f}s, drill {t_drill:.2f}s"
    )
    assert first <= 3 and max(t_month, t_city) <= 1  # the loose bounds of the issue


def test_city_user_sees_only_their_city_and_is_audited(cockpit, browser) -> None:
    lake = cockpit["lake"]
    eco = read(lake, "theme/economic_operation_month")
    month = latest(eco)
    person = Session(browser, cockpit["url"], "dl1")
    person.open("economy")
    shown = person.table("cities", "city_name", "gross_output")
    dalian = next(r["city_name"] for r in eco if r["city_code"] == CITY)
    expected = sums(
        [r for r in eco if r["period"] == month and r["city_code"] == CITY], "city_code", "gross_output"
    )
    assert shown.pop(dalian) == expected[CITY]
    assert shown and all(v is None for v in shown.values())  # other cities: 重要 withheld
    assert "授权" in person.page.inner_text("#panel-cities .note")
    assert not person.errors, person.errors
    with transaction(cockpit["service"].db) as session:
        reads = session.scalars(
            select(AuditRecord).where(
                AuditRecord.principal == "user:dl1", AuditRecord.event_type == "data.read"
            )
        ).all()
    assert any(r.object == "theme.economic_operation_month" and r.result == "success" for r in reads)


@pytest.mark.parametrize("board", ["devices", "capacity", "chain", "quality"])
def test_dashboard_loads_filters_and_downloads(cockpit, browser, tmp_path, board) -> None:
    person = Session(browser, cockpit["url"], "ana1")
    first = person.open(board)
    months = person.page.eval_on_selector_all("#f-month option", "os => os.map(o => o.value)")
    # the demo's telemetry covers one day, so the device board offers one month: nothing to change
    t_month = person.select("month", months[1]) if len(months) > 1 else 0.0
    assert len(months) > 1 or board == "devices", months
    t_city = person.select("city", CITY) if board != "quality" else 0.0
    assert person.page.inner_text("#sources").startswith("数据来源：")
    person.page.screenshot(path=str(tmp_path / f"{board}.png"), full_page=True)
    assert not person.errors, person.errors
    assert person.hosts == {urlparse(cockpit["url"]).netloc}
    print(f"{board}: first paint {first:.2f}s, month {t_month:.2f}s, city {t_city:.2f}s")


def test_devices_hours_by_city_match_the_lake(cockpit, browser) -> None:
    rows = read(cockpit["lake"], "topic/device_hours_month")
    month = latest(rows)
    person = Session(browser, cockpit["url"], "ana1")
    person.open("devices")
    names = {r["city_code"]: r["city_name"] or r["city_code"] for r in rows}
    for column in ("run_hours", "idle_hours", "fault_hours"):
        expected = sums([r for r in rows if r["period"] == month], "city_code", column)
        assert person.table("city_hours", "name", column) == {names[k]: v for k, v in expected.items()}
    assert not person.errors, person.errors
