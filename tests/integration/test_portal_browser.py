"""The 数据门户 in a real browser: Playwright for Python driving Debian's chromium (issue 14).

A consumer logs in and applies; the owner logs in and approves; the consumer's app then reads the
granted 重要 column in clear within the row scope through the API; an enterprise files a 数据异议,
which appears in `ibrain review objections`, a data engineer answers it with `ibrain review answer`
and the enterprise sees the answer. Throughout: no console error, no request to any host but the
service (every request is intercepted and checked), a screenshot of each page in the test's folder.
Lake and people: tests/support/portal.py (E1, E2 in city 210100; output 12345.67 and 25000.00 万元,
rounded to 10000.00 and 30000.00 without a grant).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.browser import require_chromium
from tests.support.cli import run_cli
from tests.support.portal import PASSWORD, Portal, running_portal

pytestmark = pytest.mark.integration
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def portal(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("IBRAIN_DB_URL", db_url)  # `ibrain review` (a separate process) uses the same state
    with running_portal(tmp_path, db_url, monkeypatch) as running:
        yield running


def test_apply_approve_read_and_objection_in_a_browser(portal: Portal, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = require_chromium()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    service_host = urlsplit(portal.url).netloc
    foreign: list[str] = []
    console_errors: list[str] = []

    def route(request_route, request) -> None:
        if urlsplit(request.url).netloc == service_host:
            request_route.continue_()
        else:
            foreign.append(request.url)
            request_route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        try:

            def person(login: str):
                context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
                context.route("**/*", route)
                page = context.new_page()
                page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: console_errors.append(str(e)))
                page.goto(portal.url + "/portal/login")
                page.fill("#login", login)
                page.fill("#password", PASSWORD)
                page.click("#submit")
                page.wait_for_url("**/portal/products")
                return context, page

            def shot(page, name: str) -> None:
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

            # the consumer: products with grades and quality score, then apply for output in 210100
            context, page = person("alice")
            product = page.locator("#product-theme-test_city_month")
            assert "测试地市月度主题" in product.inner_text() and "87.5" in product.inner_text()
            product.locator("summary").click()
            assert "重要" in product.inner_text() and "secret_core" not in page.content()
            shot(page, "01-products")
            page.goto(portal.url + "/portal/indicators")
            shot(page, "02-indicators")
            product_link = f"{portal.url}/portal/apply?dataset=theme.test_city_month"
            page.goto(product_link)
            page.check("input[name=columns][value=output]")
            page.fill("#purpose", "地市经济运行监测")
            page.fill("#cities", "210100")
            page.fill("#expires_on", (dt.date.today() + dt.timedelta(days=30)).isoformat())
            shot(page, "03-apply")
            page.click("#submit")
            page.wait_for_url("**/portal/mine?submitted=*")
            assert page.locator("#applications .status").first.inner_text() == "待审批"
            shot(page, "04-mine-pending")
            context.close()

            # the owner approves from the queue
            context, page = person("owner")
            page.goto(portal.url + "/portal/queue")
            application = page.locator("section.application").first
            assert "alice" in application.inner_text() and "210100" in application.inner_text()
            application.locator("input[name=reason]").fill("用途明确，同意")
            shot(page, "05-queue")
            application.locator("button.approve").click()
            page.wait_for_url("**/portal/queue")
            assert page.locator("#empty-queue").is_visible()
            shot(page, "06-queue-approved")
            context.close()

            # the consumer's organisation reads through the API: output clear in 210100 only
            _key, token = portal.app_token("bureau")
            rows = portal.call("GET", "/v1/theme/test_city_month", token, params={"page_size": "4"}).json()[
                "rows"
            ]
            assert {r["enterprise_id"]: r["output"] for r in rows} == {
                "E1": "12345.67",
                "E2": "25000.00",
                "E3": "0.00",
                "E4": "40000.00",
            }
            context, page = person("alice")
            page.goto(portal.url + "/portal/mine")
            assert "已批准" in page.locator("#notices").inner_text()
            assert page.locator("#grants .status").first.inner_text() == "有效"
            shot(page, "07-mine-granted")
            context.close()

            # the enterprise: its own records, and a data objection on one of them
            context, page = person("bob")
            page.goto(portal.url + "/portal/enterprise")
            own = page.locator("#own-theme-test_city_month")
            assert "E1" in own.inner_text() and "E2" not in own.inner_text()
            shot(page, "08-enterprise")
            own.locator("a.objection").first.click()
            page.wait_for_url("**/portal/objection?*")
            page.select_option("#column", "staff")
            page.fill("#description", "从业人数应为 12 人")
            shot(page, "09-objection")
            page.click("#submit")
            page.wait_for_url("**/portal/enterprise")
            assert page.locator("#objections .status").first.inner_text() == "处理中"

            # it is in the review queue; a data engineer answers; the enterprise sees the answer
            env = {k: v for k, v in os.environ.items() if k.startswith("IBRAIN_")}
            listed = run_cli(["review", "objections"], env).stdout
            assert (
                "#1  [open]  ent (user:bob)  theme.test_city_month" in listed
                and "从业人数应为 12 人" in listed
            )
            answered = run_cli(
                ["review", "answer", "1", "--outcome", "corrected", "--text", "已按企业台账更正"],
                {**env, "IBRAIN_TOKEN": portal.token("engineer")},
            )
            assert "objection #1 answered (corrected) by user:engineer" in answered.stdout
            page.goto(portal.url + "/portal/enterprise")
            assert page.locator("#objections .status").first.inner_text() == "已更正"
            assert page.locator("#objections .answer").first.inner_text() == "已按企业台账更正"
            shot(page, "10-enterprise-answered")
            context.close()

            # the auditor's trail view shows the workflow
            context, page = person("auditor")
            page.goto(portal.url + "/portal/audit?event=application.*")
            trail = page.locator("#trail").inner_text()
            assert "application.submit" in trail and "application.decide" in trail
            shot(page, "11-audit")
            context.close()
        finally:
            browser.close()
    assert console_errors == []
    assert foreign == []
    assert len(list(shots.glob("*.png"))) == 11
