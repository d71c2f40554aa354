"""The analyst's products on the session demo lake (issue 16): the notebooks run through ``ibrain
serve`` with the analyst's token and a grant, and the monthly brief's figures equal the theme's.

The service runs as a real process over the demo lake (read-only) with a *copy* of the demo's
state database, so the grant, the login session and the audited reads stay in this test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import nbformat
import pytest
import requests
from sqlalchemy import select

from ibrain.lake import Lake
from ibrain.settings import Settings
from security.audit.models import AuditRecord
from security.db import database_url, make_engine, migrate, transaction
from security.grants import Grant
from security.identity import accounts
from security.identity.config import IdentityPolicy
from security.keys import load_keyring
from tests.e2e.conftest import DemoLake
from tests.support.browser import require_chromium
from tests.support.cli import BIN, clean_env
from tests.support.data_service import free_port
from tests.support.notebooks import NOTEBOOKS, NotebookFailed, run_notebook

pytestmark = pytest.mark.e2e

PERIOD = "2025-01"  # the demo's last month: it has a year-ago month (2024-01)
NOTEBOOK_NAMES = ("economic_operation", "chain_resilience", "capacity_sharing")


@dataclass
class Served:
    url: str
    token: str
    db_url: str

    @property
    def notebook_env(self) -> dict[str, str]:
        return clean_env({"IBRAIN_API_URL": self.url, "IBRAIN_TOKEN": self.token})


def _copy_state(source_url: str, target: Path) -> str:
    source = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"


@pytest.fixture(scope="module")
def served(demo_lake: DemoLake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``ibrain serve`` over the demo lake; the demo's analyst (a data owner of the platform
    organisation) logged in, the organisation granted the amounts of the two datasets it reads."""
    base = tmp_path_factory.mktemp("analyst")
    settings = Settings.from_env(demo_lake.env)
    db_url = _copy_state(database_url(settings), base / "state.db")
    engine = make_engine(db_url)
    migrate(engine)
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        for dataset, columns in (
            ("theme.economic_operation_month", ["gross_output", "revenue", "total_profit"]),
            ("topic.chain_supplier_risk", ["top_supplier_share"]),
        ):
            expires = now + dt.timedelta(days=30)
            session.add(Grant(dataset=dataset, grantee_org="platform", columns=json.dumps(columns),
                              granted_by="user:governance", granted_at=now, expires_at=expires))  # fmt: skip
        outcome = accounts.open_session(
            session,
            "user:analyst",
            IdentityPolicy.from_env({}),
            load_keyring("token", settings=settings),
            now,
        )
    engine.dispose()
    port = free_port()
    env = clean_env({**demo_lake.env, "IBRAIN_DB_URL": db_url})
    process = subprocess.Popen(
        [str(BIN / "ibrain"), "serve", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/v1/openapi.json", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "ibrain serve did not start"
            time.sleep(0.2)
        yield Served(url, outcome.token_or_raise(), db_url)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-4000:]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_through_the_data_service_and_draws_a_chart(served: Served, name: str) -> None:
    ran = run_notebook(NOTEBOOKS / f"{name}.ipynb", served.notebook_env)
    assert ran.images(), f"{name}: no chart among the outputs"
    assert ran.seconds < 60, f"{name} took {ran.seconds:.1f}s"
    # the reads went through the service as the analyst, and were audited
    engine = make_engine(served.db_url)
    with transaction(engine) as session:
        reads = session.scalars(
            select(AuditRecord.object).where(
                AuditRecord.principal == "user:analyst", AuditRecord.event_type == "data.read",
                AuditRecord.result == "success",
            )
        ).all()  # fmt: skip
    engine.dispose()
    expected = {
        "economic_operation": "theme.economic_operation_month",
        "chain_resilience": "topic.chain_supplier_risk",
        "capacity_sharing": "topic.cnc_capacity_matching_month",
    }[name]
    assert expected in reads


def test_a_failing_cell_fails_naming_the_cell(served: Served) -> None:
    nb = nbformat.read(NOTEBOOKS / "capacity_sharing.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('raise ValueError("broken on purpose")'))
    with pytest.raises(NotebookFailed, match=r"capacity_sharing\.ipynb: cell 4 failed .*broken on purpose"):
        run_notebook(NOTEBOOKS / "capacity_sharing.ipynb", served.notebook_env, notebook=nb)


def _figures(html: str) -> dict[str, str]:
    """data-figure name → the text shown (tags inside stripped)."""
    found = re.findall(r'data-figure="([^"]+)">(.*?)</(?:td|span)>', html, flags=re.DOTALL)
    return {name: re.sub(r"<[^>]+>", "", text).strip() for name, text in found}


def test_brief_figures_equal_the_theme(demo_lake: DemoLake, tmp_path: Path) -> None:
    from serving.brief.figures import compute
    from serving.brief.render import render_html, write_brief

    lake = Lake(Settings.from_env(demo_lake.env))
    figures = compute(lake, PERIOD)
    html = render_html(figures)
    shown = _figures(html)
    # the same totals straight from the Delta table with Spark SQL (the engine the theme was built with)
    spark = demo_lake.tables.spark
    rows = spark.sql(
        "SELECT city_code, period, sum(enterprise_count) AS n, sum(gross_output) AS output, "
        "sum(revenue) AS revenue, sum(total_profit) AS profit FROM theme.economic_operation_month "
        "WHERE period IN (DATE'2025-01-01', DATE'2024-01-01') GROUP BY city_code, period"
    ).collect()
    now = {r.city_code: r for r in rows if r.period == dt.date(2025, 1, 1)}
    before = {r.city_code: r for r in rows if r.period == dt.date(2024, 1, 1)}

    def amount(name: str) -> Decimal:
        return Decimal(shown[name].replace(",", ""))

    assert amount("province.gross_output") == sum(r.output for r in now.values())
    assert amount("province.revenue") == sum(r.revenue for r in now.values())
    assert amount("province.total_profit") == sum(r.profit for r in now.values())
    assert int(shown["province.enterprise_count"]) == sum(r.n for r in now.values())
    yoy = (sum(r.output for r in now.values()) / sum(r.output for r in before.values()) - 1) * 100
    assert shown["province.gross_output_yoy_pct"] == f"{yoy:+.1f}%"
    assert {k.split(".")[1] for k in shown if k.startswith("city.")} == set(now)
    for code, row in now.items():
        assert amount(f"city.{code}.gross_output") == row.output
        assert int(shown[f"city.{code}.enterprise_count"]) == row.n
        if code in before:
            city_yoy = (row.output / before[code].output - 1) * 100
            assert shown[f"city.{code}.gross_output_yoy_pct"] == f"{city_yoy:+.1f}%"
    assert html.count("<svg") == 3 and "<script" not in html
    # written into a lake of its own (the demo lake stays as the demo left it), with its PDF, and listed
    require_chromium()  # the PDF: skipped without Chromium on a developer machine, a failure under CI
    own = Lake(Settings.from_env({**demo_lake.env, "IBRAIN_LAKE_ROOT": str(tmp_path / "lake")}))
    written = write_brief(own, figures)
    assert written.pdf_problem is None and written.pdf_uri is not None
    assert Path(written.pdf_uri).read_bytes().startswith(b"%PDF-")
