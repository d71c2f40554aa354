"""Re-delivered statistics with changed values → exactly one new revision for the affected periods of
each affected export, including the later months whose MoM/YoY changed; unchanged periods create
nothing (issue 15, acceptance). On a copy of the session demo lake (2024-01 … 2025-01).

Shenyang's January 2024 statistics come again with every enterprise's gross output 10 % higher.
By hand: January's packages of every 综合管理平台 export change (its cells' amounts, and the
province's and the city's indicator values); February's change (the province's gross-output MoM,
IND_OUTPUT_MOM, compares with January), and January 2025's (IND_OUTPUT_YOY compares with January
2024); no other month of the zhgl exports and nothing of 工业互联网公共服务平台 (no statistics in
its exports) changes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ibrain.lake import Lake
from ibrain.settings import Settings
from security.actor import Actor
from security.db import make_engine, migrate
from security.keys import init_key, load_keyring
from serving.deliveries.builder import build_due, exports
from tests.e2e.conftest import DemoLake
from tests.support.cli import run_cli
from tests.support.identity import engineer_env

pytestmark = pytest.mark.e2e
ACTOR = Actor("system:test-revisions")
CITY, MONTH = "210100", "202401"
HEADER = "工业总产值(万元)"


def corrected_statistics(lake: Lake) -> tuple[str, bytes]:
    """The landed Shenyang January file (GBK or UTF-8, title lines, a 合计 row, notes), each
    enterprise's gross output × 1.1 (two decimals); everything else as delivered."""
    [landed] = [
        f
        for f in lake.list_files(lake.uri("landing", "gov_stats_monthly"))
        if f.endswith(f"gov_stats_monthly_{CITY}_{MONTH}.csv")
    ]
    raw = lake.read_bytes(landed)
    try:
        encoding, text = "utf-8-sig", raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        encoding, text = "gb18030", raw.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text)))
    header = next(i for i, row in enumerate(rows) if HEADER in row)
    column = rows[header].index(HEADER)
    changed = 0
    for row in rows[header + 1 :]:
        if len(row) > column and len(row[0].strip()) == 18:  # an enterprise's line (its USCC)
            try:
                amount = Decimal(row[column].replace(",", ""))
            except InvalidOperation:  # an injected defect stays as delivered
                continue
            row[column] = str((amount * Decimal("1.1")).quantize(Decimal("0.01")))
            changed += 1
    assert changed > 5
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return landed.rsplit("__", 1)[1], out.getvalue().encode(encoding)


def test_changed_statistics_revise_exactly_the_affected_periods(
    lake_copy: DemoLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = engineer_env(lake_copy.env, login="reviser")
    settings = Settings.from_env(env)
    lake = Lake(settings)
    keys = tmp_path / "keys"
    recipients = sorted({e.recipient for e in exports()})
    monkeypatch.setenv("IBRAIN_DELIVERY_KEY_DIR", str(keys))
    for r in recipients:
        init_key("delivery", r, settings=settings)
    keyrings = {r: load_keyring("delivery", r, settings=settings) for r in recipients}
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    migrate(engine)
    now = dt.datetime.now(dt.UTC)

    first = build_due(engine, LakeTables(lake=lake), keyrings, ACTOR, now)
    assert first.built and all(p.endswith(".r1") for p in first.built)
    assert len(first.built) == 3 * 13 + 13 + 1 + 1  # zhgl 3 × 13 months; capacity 13; map; connectivity

    name, data = corrected_statistics(lake)
    lake.write_bytes(lake.uri("landing", "_inbox", "gov_stats_monthly", name), data)
    run_cli(["run"], env)

    second = build_due(engine, LakeTables(lake=lake), keyrings, ACTOR, now)
    built = {tuple(p.split(".")) for p in second.built}
    assert {revision for *_, revision in built} == {"r2"}
    by_period: dict[str, set[str]] = {}
    for recipient, dataset, period, _ in built:
        assert recipient == "zhgl_platform"
        by_period.setdefault(period, set()).add(dataset)
    assert set(by_period) == {"2024-01", "2024-02", "2025-01"}
    assert by_period["2024-01"] == {
        "economic_city_chain_month",
        "economic_city_division_month",
        "indicator_value",
    }
    assert "indicator_value" in by_period["2024-02"] and "indicator_value" in by_period["2025-01"]

    third = build_due(engine, LakeTables(lake=lake), keyrings, ACTOR, now)
    assert third.built == []
