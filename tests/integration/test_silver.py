"""Silver on the real engine: rules and reasons, resolution and review, the SCD2 master,
telemetry, unit conversion, and rebuilds that reproduce the same rows."""

import datetime as dt
import shutil
from pathlib import Path

import orjson
import pytest
from pyspark.sql import functions as F

from catalog.tables import LakeTables
from ibrain import delta, uscc
from ibrain.lake import Lake
from ibrain.settings import Settings
from ingest.bronze import load
from ingest.ledger import Delivery, IngestLedger
from ingest.reference import load_reference
from simulators.sources import csv_bytes, headers, xlsx_bytes
from tests.conftest import lake_env
from transforms.silver import device_state_interval, enterprise
from transforms.silver import registry as registry_entity
from transforms.silver.enterprise_match_review import decide, pending, review_contract
from transforms.silver.entities import enterprise_month_stats, price_quote, telemetry_reading
from transforms.silver.framework import Entity, build
from transforms.silver.resolution import enterprise_id_py

pytestmark = pytest.mark.integration


def stats() -> Entity:
    return enterprise_month_stats.entity()


def code(region: str, tail: str) -> str:
    body = f"91{region}{tail}"
    return body + uscc.check_char(body)


GOOD = code("210102", "MA0QC3L40")  # 沈阳 和平区
OTHER = code("210102", "MA0ABCDE1")
THIRD = code("210103", "MA0XYW123")  # 沈阳 沈河区
NAMES = {GOOD: "沈阳华晟机床有限公司", OTHER: "沈阳东方化工有限公司", THIRD: "沈阳金鼎机器人有限责任公司"}
REGIONS = {GOOD: "210102", OTHER: "210102", THIRD: "210103"}


def registry(
    tables: LakeTables, versions: list[dict], day: str = "2024-03-31", unit: str = "090000-p0001"
) -> None:
    page = orjson.dumps({"data": versions, "page": 1, "total_pages": 1})
    IngestLedger(tables).land([Delivery("gov_registry", f"page_{unit}.json", page, unit, day)])
    load(tables, "gov_registry")
    build(tables, registry_entity())
    enterprise.build(tables)


def version(code_: str, name: str | None = None, at: str = "2024-01-05T09:00:00+08:00", **extra) -> dict:
    return {
        "uscc": code_,
        "name": name or NAMES[code_],
        "legal_representative": "王伟",
        "registered_capital": 500,
        "established_on": "2010-05-01",
        "address": "辽宁省沈阳市和平区建设路1号",
        "region_code": REGIONS.get(code_, "210102"),
        "industry_code": "3421",
        "status": "存续",
        "enterprise_type": "有限责任公司",
        "updated_at": at,
        **extra,
    }


@pytest.fixture(scope="module")
def registered_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reference tables and the three enterprises registered, built once for the module."""
    base = tmp_path_factory.mktemp("silver")
    with pytest.MonkeyPatch.context() as env:
        for key, value in lake_env(base).items():
            env.setenv(key, value)
        tables = LakeTables(lake=Lake(Settings.from_env()))
        load_reference(tables)
        registry(tables, [version(c) for c in NAMES])
    return base / "lake"


@pytest.fixture
def lake(registered_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LakeTables:
    """A copy of the registered lake of its own (the ledger's landing paths still name the
    original's files, which the tests only read)."""
    shutil.copytree(registered_lake, tmp_path / "lake")
    for key, value in lake_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    return LakeTables(lake=Lake(Settings.from_env()))


def row(
    code_: str,
    output: str = "100",
    period: str = "2024-03",
    name: str | None = None,
    region: str | None = None,
    industry: str = "3421",
    revenue: str = "90",
    profit: str = "5",
) -> list[str]:
    return [
        code_,
        name or NAMES.get(code_, "某某有限公司"),
        region or REGIONS.get(code_, "210102"),
        industry,
        period,
        output,
        revenue,
        profit,
        "10",
        "2",
    ]


def deliver_stats(
    tables: LakeTables, rows: list[list[str]], unit: str = "210100", period: str = "202403"
) -> None:
    data = csv_bytes([["辽宁省规模以上工业企业主要指标月报"], headers("gov_stats_monthly"), *rows], "gbk")
    IngestLedger(tables).land([Delivery("gov_stats_monthly", f"gov_stats_monthly_{unit}_{period}.csv", data)])
    load(tables, "gov_stats_monthly")


def quarantine(tables: LakeTables, table: str) -> dict[int, tuple[str, str]]:
    return {
        r._row_number: (r.rule_id, r.reason.split(": ", 1)[1])
        for r in tables.read("quarantine", f"silver_{table}").collect()
    }


def test_rules_reasons_flags_and_reconciliation(lake: LakeTables) -> None:
    bad_digit = THIRD[:-1] + ("0" if THIRD[-1] != "0" else "1")
    rows = [
        row(GOOD, "１２３．５"),  # 3 full-width digits: fine
        row(f" {OTHER.lower()[:8]} {OTHER.lower()[8:]}", "1,234", period="2024/3"),  # 4 lower case, spaces
        row(bad_digit, name=NAMES[THIRD], region="210103"),  # 5 invalid USCC, resolved by name + region
        row(code("210102", "NBDY12345")[:-1] + "0", name="沈阳无名公司"),  # 6 invalid USCC, no such name
        row("", name="沈阳空码公司"),  # 7 blank USCC
        row(code("210104", "MA0PERD01"), period="2024年4月"),  # 8 wrong month
        row(code("210104", "MA0NUMBER"), output="12O"),  # 9 not a number
        row(code("210104", "MA0REGN01"), region="219999"),  # 10 unknown region
        row(code("210104", "MA0DAWA01"), region="211121"),  # 11 abolished 2016: mapped to 211104, flagged
        row(code("210104", "MA0NDU001"), industry="9999"),  # 12 unknown industry
        row(code("210104", "MA0NEGAT1"), output="-5"),  # 13 negative output
        row(code("210104", "MA0YUAN01"), output="900000"),  # 14 元 in a 万元 column
        row(code("210104", "MA0PRFT01"), profit="95"),  # 15 profit above revenue
        row(GOOD, period="202403"),  # 16 duplicate of line 3
    ]
    deliver_stats(lake, rows)
    report = build(lake, stats())
    assert report.periods == ["2024-03"] and report.rows_in == 14
    assert report.quarantined == {
        "unresolved_enterprise": 1,
        "required_fields": 1,
        "report_period": 1,
        "numeric_format": 1,
        "region_code": 1,
        "industry_code": 1,
        "range": 1,
        "unit_mismatch": 1,
        "profit_exceeds_revenue": 1,
        "duplicate": 1,
    }
    assert report.flagged == {"uscc_check_digit": 1, "region_code_successor": 1}

    silver = {r._row_number: r for r in lake.read("silver", "enterprise_month_stats").collect()}
    assert sorted(silver) == [3, 4, 5, 11]
    assert (silver[3].uscc, str(silver[3].gross_output), silver[3].resolution) == (GOOD, "123.50", "uscc")
    assert (silver[4].uscc, str(silver[4].gross_output), silver[4].uscc_reported) == (OTHER, "1234.00", None)
    assert silver[3].enterprise_id == enterprise_id_py(GOOD) and silver[3].city_code == "210100"
    assert (silver[5].uscc, silver[5].uscc_reported, silver[5].resolution) == (
        THIRD,
        bad_digit,
        "name_region",
    )
    assert silver[5].dq_flags == "uscc_check_digit"
    assert (silver[11].region_code, silver[11].city_code, silver[11].dq_flags) == (
        "211104",
        "211100",
        "region_code_successor",
    )
    assert silver[3].period == dt.date(2024, 3, 1)

    reasons = quarantine(lake, "enterprise_month_stats")
    assert reasons[7] == ("required_fields", "统一社会信用代码 '' is required but empty")
    assert reasons[8] == ("report_period", "报告期 '2024年4月' differs from the delivery's period 2024-03")
    assert reasons[9] == ("numeric_format", "工业总产值(万元) '12O' is not a number")
    assert reasons[10] == ("region_code", "行政区划代码 '219999' is not a GB/T 2260 code of Liaoning")
    assert reasons[12] == ("industry_code", "行业代码 '9999' is not a GB/T 4754-2017 class")
    assert reasons[13] == ("range", "工业总产值(万元) '-5' is negative")
    assert reasons[14][0] == "unit_mismatch" and "reported in 元" in reasons[14][1]
    assert reasons[15][0] == "profit_exceeds_revenue"
    assert reasons[6][0] == "unresolved_enterprise" and "沈阳无名公司" in reasons[6][1]
    assert reasons[16][0] == "duplicate" and silver[3]._record_hash in reasons[16][1]

    bronze = lake.read("bronze", "gov_stats_monthly").count()
    assert bronze == len(silver) + len(reasons)  # nothing lost
    assert build(lake, stats()).periods == []  # re-running: nothing is stale


def test_a_confirmed_match_releases_the_quarantined_row(lake: LakeTables) -> None:
    odd_name = "沈阳金鼎机器人（集团）有限公司"  # not THIRD's registered name: no automatic match
    deliver_stats(
        lake, [row(THIRD[:-1] + ("0" if THIRD[-1] != "0" else "1"), name=odd_name, region="210103")]
    )
    build(lake, stats())
    assert quarantine(lake, "enterprise_month_stats")[3][0] == "unresolved_enterprise"
    [review] = pending(lake)
    assert review["candidate_enterprise_id"] is None  # no candidate by name: a person decides
    # A person adds the match by confirming a candidate row written for them:
    candidate = {
        **review,
        "review_id": "manual-1",
        "candidate_enterprise_id": enterprise_id_py(THIRD),
        "candidate_uscc": THIRD,
        "candidate_name": NAMES[THIRD],
        "confidence": 1.0,
    }
    lake.merge(
        review_contract(),
        lake.spark.createDataFrame([candidate], lake.read("silver", "enterprise_match_review").schema),
        keys=["review_id"],
    )
    decide(lake, "manual-1", "confirmed", "tester")
    assert build(lake, stats()).periods == ["2024-03"]  # the confirmation makes the month stale
    [released] = lake.read("silver", "enterprise_month_stats").collect()
    assert (released.uscc, released.resolution) == (THIRD, "review")
    assert quarantine(lake, "enterprise_month_stats") == {}
    statuses = {r.review_id: r.status for r in lake.read("silver", "enterprise_match_review").collect()}
    assert statuses == {review["review_id"]: "rejected", "manual-1": "confirmed"}


def test_enterprise_master_is_scd2(lake: LakeTables) -> None:
    master = lake.read("silver", "enterprise")
    assert master.count() == 3 and master.filter("is_current").count() == 3
    ref = lake.ref(enterprise.master_contract())
    before = delta.version(lake.lake, ref)
    enterprise.build(lake)
    assert delta.version(lake.lake, ref) == before  # re-running adds no rows, no version

    registry(
        lake,
        [
            version(GOOD, "沈阳华晟数控机床有限公司", "2024-06-01T10:00:00+08:00"),
            version(OTHER, at="2024-06-02T10:00:00+08:00"),
        ],  # unchanged attributes
        day="2024-06-02",
        unit="100000-p0001",
    )
    history = {(r.enterprise_id, r.valid_from): r for r in lake.read("silver", "enterprise").collect()}
    good = sorted((r for r in history.values() if r.uscc == GOOD), key=lambda r: r.valid_from)
    assert [(r.enterprise_name, r.is_current) for r in good] == [
        ("沈阳华晟机床有限公司", False),
        ("沈阳华晟数控机床有限公司", True),
    ]
    assert good[0].valid_to == good[1].valid_from == dt.datetime(2024, 6, 1, 2, 0)  # UTC
    assert len([r for r in history.values() if r.uscc == OTHER]) == 1  # no change, no new version
    assert lake.read("silver", "enterprise").filter("is_current").count() == 3


def test_region_validity_depends_on_the_records_date(lake: LakeTables) -> None:
    registry(
        lake,
        [
            version(
                code("211121", "MA0LD0001"),
                "盘锦老字号有限公司",
                "2015-03-01T09:00:00+08:00",
                region_code="211121",
            ),
            version(
                code("211104", "MA0NEW002"),
                "盘锦新字号有限公司",
                "2015-03-01T09:00:00+08:00",
                region_code="211104",
            ),
        ],
        day="2015-03-01",
        unit="090000-p0002",
    )
    records = {r.enterprise_name: r for r in lake.read("silver", "registry_record").collect()}
    assert (records["盘锦老字号有限公司"].region_code, records["盘锦老字号有限公司"].dq_flags) == (
        "211121",
        None,
    )
    rejected = {r.rule_id for r in lake.read("quarantine", "silver_registry_record").collect()}
    assert rejected == {"region_code"}  # 211104 did not exist before 2016


def test_telemetry_is_typed_in_utc_deduplicated_and_becomes_intervals(lake: LakeTables) -> None:
    def reading(
        minute: int, status: str, load: float | None = 50.0, device: str = "CNC-2101-000001"
    ) -> bytes:
        return orjson.dumps(
            {
                "device_id": device,
                "uscc": GOOD,
                "ts": f"2025-01-31T07:{minute:02d}:00+08:00",
                "status": status,
                "spindle_load": load,
                "joint_load": None,
                "power_kw": 10.5,
                "part_count": minute,
            }
        )

    lines = [
        reading(0, "run"),
        reading(1, "run"),
        reading(1, "run"),
        reading(2, "idle", 1.0),
        reading(3, "run", 150.0),
        reading(4, "run"),
    ]
    IngestLedger(lake).land([Delivery("ent_telemetry", "ent_telemetry_20250131_07.jsonl", b"\n".join(lines))])
    load(lake, "ent_telemetry")
    report = build(lake, telemetry_reading.entity())
    assert report.quarantined == {"duplicate": 1, "range": 1}
    readings = sorted(lake.read("silver", "telemetry_reading").collect(), key=lambda r: r.reading_ts)
    assert [r.reading_ts for r in readings][:2] == [
        dt.datetime(2025, 1, 30, 23, 0),
        dt.datetime(2025, 1, 30, 23, 1),
    ]
    assert readings[0].reading_hour == dt.datetime(2025, 1, 30, 23, 0) and readings[0].source_tz == "+08:00"
    assert readings[0].device_kind == "cnc" and readings[0].enterprise_id == enterprise_id_py(GOOD)

    assert device_state_interval.build(lake) == [dt.date(2025, 1, 31)]
    intervals = sorted(lake.read("silver", "device_state_interval").collect(), key=lambda r: r.start_ts)
    assert [(r.status, r.readings, r.duration_minutes) for r in intervals] == [
        ("run", 2, 2.0),
        ("idle", 1, 2.0),
        ("run", 1, 1.0),
    ]  # 07:00–07:02, 07:02–07:04, 07:04–07:05
    assert device_state_interval.build(lake) == []  # nothing stale


def test_prices_in_kilograms_are_converted_and_flagged(lake: LakeTables) -> None:
    header = headers("ind_prices")
    rows = [
        ["标题"],
        header,
        ["电熔镁砂", "MgO≥97%", "元/吨", "4300.00", "1.2", "3.4", "营口", "2024-03-31"],
        ["轻烧镁粉", "MgO≥90%", "元/千克", "1.150", "0.5", "-1.0", "营口", "2024-03-31"],
        ["菱镁矿", "MgO≥47%", "美元/吨", "40", "0", "0", "海城", "2024-03-31"],
    ]
    IngestLedger(lake).land([Delivery("ind_prices", "ind_prices_202403.xlsx", xlsx_bytes(rows))])
    load(lake, "ind_prices")
    report = build(lake, price_quote.entity())
    prices = {r.material: r for r in lake.read("silver", "price_quote").collect()}
    assert str(prices["轻烧镁粉"].price_per_ton) == "1150.00" and prices["轻烧镁粉"].dq_flags == "price_unit"
    assert str(prices["电熔镁砂"].price_per_ton) == "4300.00" and prices["电熔镁砂"].dq_flags is None
    assert report.quarantined == {"price_unit": 1}


def test_a_full_rebuild_reproduces_the_same_rows(lake: LakeTables) -> None:
    deliver_stats(lake, [row(GOOD), row(OTHER, "7"), row("bad", name="x")])
    deliver_stats(lake, [row(THIRD, period="2024-04")], unit="210100", period="202404")
    build(lake, stats())

    def snapshot(table: str, layer: str = "silver") -> list[tuple]:
        df = lake.read(layer, table)
        return sorted(tuple(r) for r in df.drop(*[c for c in df.columns if c == "quarantined_at"]).collect())

    before = (snapshot("enterprise_month_stats"), snapshot("silver_enterprise_month_stats", "quarantine"))
    assert build(lake, stats(), periods=["2024-03", "2024-04"]).periods == ["2024-03", "2024-04"]
    assert (
        snapshot("enterprise_month_stats"),
        snapshot("silver_enterprise_month_stats", "quarantine"),
    ) == before


def test_canonical_names_agree_in_python_and_spark(lake: LakeTables) -> None:
    from transforms.silver.text import canonical_name, canonical_name_py

    names = [
        "沈阳 华晟（机床）有限责任公司",
        "ＡＢＣ科技(辽宁)有限公司",
        "  大连·海创有限公司 ",
        "",
        None,
        "鞍山【钢】-有限公司",
    ]
    df = lake.spark.createDataFrame([(n,) for n in names], "n string")
    got = [r.c for r in df.select(canonical_name(F.col("n")).alias("c")).collect()]
    # half-width, no spaces, brackets or punctuation, 有限责任公司 read as 有限公司, blank → None
    expected = [
        "沈阳华晟机床有限公司",
        "ABC科技辽宁有限公司",
        "大连海创有限公司",
        None,
        None,
        "鞍山钢有限公司",
    ]
    assert got == expected
    assert [canonical_name_py(n) for n in names] == expected


def test_an_implausible_registering_authority_is_kept_and_flagged(lake: LakeTables) -> None:
    odd = code("990000", "MA0QC3L40")  # a valid check digit, but no province 99
    deliver_stats(lake, [row(odd, name="境外登记机关有限公司")])
    assert build(lake, stats()).flagged == {"uscc_authority": 1}
    [kept] = lake.read("silver", "enterprise_month_stats").collect()
    assert (kept.uscc, kept.dq_flags, kept.resolution) == (odd, "uscc_authority", "uscc")


def test_quality_is_measured_on_the_rebuilt_periods_or_else_the_latest(tmp_lake: LakeTables) -> None:
    from transforms.silver.framework import measured_periods

    march, april = dt.date(2024, 3, 1), dt.date(2024, 4, 1)
    df = tmp_lake.spark.createDataFrame([(march,), (april,), (april,)], "period date")
    periods, rows = measured_periods(df, "month", [])
    assert (periods, rows.count()) == (["2024-04"], 2)  # nothing rebuilt: the latest month
    periods, rows = measured_periods(df, "month", ["2024-03"])
    assert (periods, rows.count()) == (["2024-03"], 1)
    days = tmp_lake.spark.createDataFrame([(dt.date(2025, 1, 30),), (dt.date(2025, 1, 31),)], "period date")
    assert measured_periods(days, "day", [])[0] == ["2025-01-31"]
    periods, rows = measured_periods(df.limit(0), "month", [])
    assert (periods, rows.count()) == ([], 0)
