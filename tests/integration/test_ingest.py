"""Landing → ledger → bronze → silver on a temporary lake, with the real engine."""

import json
import random

import pytest
from pyspark.sql import functions as F

from catalog.tables import LakeTables
from ibrain import delta, uscc
from ingest.bronze import load
from ingest.ledger import Delivery, IngestLedger
from simulators.sources import headers

HEADER = headers("gov_stats_monthly")

pytestmark = pytest.mark.integration
GOOD = "91210100MA0QC3L40K"
OTHER = "91210102" + "MA0ABCDE1"
OTHER += uscc.check_char(OTHER)


def report(rows: list[list[str]], title: bool = True) -> bytes:
    lines = [["辽宁省规模以上工业企业主要指标月报"]] if title else []
    lines += [HEADER, *rows, ["合计", "", "", "", "", "1", "", "", "", ""]]
    return "\r\n".join(",".join(f'"{c}"' if "," in c else c for c in line) for line in lines).encode(
        "utf-8-sig"
    )


def row(code: str, output: str = "100", period: str = "2024-03", name: str = "测试机床有限公司") -> list[str]:
    return [code, name, "210102", "3421", period, output, "90", "5", "10", "2"]


def deliver(tables: LakeTables, name: str, data: bytes):
    return IngestLedger(tables).land([Delivery("gov_stats_monthly", name, data)])


def bronze_rows(tables: LakeTables) -> list[tuple]:
    df = tables.read("bronze", "gov_stats_monthly")
    return sorted((r.reporting_unit, r.period, r.uscc, r.gross_output) for r in df.collect())


def test_land_load_noop_and_correction(tmp_lake: LakeTables) -> None:
    first = report([row(GOOD, "1,000.5"), row(OTHER, "200")])
    result = deliver(tmp_lake, "gov_stats_monthly_210100_202403.csv", first)
    assert len(result.landed) == 1
    [entry] = IngestLedger(tmp_lake).entries()
    assert entry["status"] == "pending" and entry["reporting_unit"] == "210100"
    assert entry["period"] == "2024-03" and entry["size_bytes"] == len(first)
    assert tmp_lake.lake.read_bytes(entry["landing_path"]) == first  # landing keeps the bytes

    loaded = load(tmp_lake, "gov_stats_monthly")
    assert loaded.loaded == [entry["batch_id"]]
    assert (loaded.rows_read, loaded.rows_bronze, loaded.rows_skipped) == (5, 2, 3)
    assert bronze_rows(tmp_lake) == [
        ("210100", "2024-03", GOOD, "1,000.5"),
        ("210100", "2024-03", OTHER, "200"),
    ]
    version_after_first = delta.version(tmp_lake.lake, tmp_lake.lake.ref("bronze", "gov_stats_monthly"))

    # the same content again (another file name even) is a no-op
    again = deliver(tmp_lake, "copy_210100_202403.csv", first)
    assert again.landed == [] and again.unchanged == ["copy_210100_202403.csv"]
    assert load(tmp_lake, "gov_stats_monthly").loaded == []

    # another city's file for the same month is independent
    deliver(tmp_lake, "gov_stats_monthly_210200_202403.csv", report([row(GOOD, "7")]))
    # a correction for 210100: OTHER vanished, GOOD changed
    deliver(tmp_lake, "gov_stats_monthly_210100_202403.csv", report([row(GOOD, "999")]))
    load(tmp_lake, "gov_stats_monthly")
    assert bronze_rows(tmp_lake) == [("210100", "2024-03", GOOD, "999"), ("210200", "2024-03", GOOD, "7")]

    statuses = {(e["reporting_unit"], e["status"]) for e in IngestLedger(tmp_lake).entries()}
    assert statuses == {("210100", "superseded"), ("210100", "loaded"), ("210200", "loaded")}
    superseded = next(e for e in IngestLedger(tmp_lake).entries() if e["status"] == "superseded")
    assert superseded["superseded_by"] is not None
    # the replaced rows stay in Delta history
    old = (
        tmp_lake.spark.read.format("delta")
        .option("versionAsOf", version_after_first)
        .load(tmp_lake.lake.table_uri("bronze", "gov_stats_monthly"))
    )
    assert old.filter(F.col("uscc") == OTHER).count() == 1


def test_correction_back_to_earlier_content_is_loaded(tmp_lake: LakeTables) -> None:
    a, b = report([row(GOOD, "1")]), report([row(GOOD, "2")])
    name = "gov_stats_monthly_210100_202403.csv"
    for data in (a, b, a):
        assert len(deliver(tmp_lake, name, data).landed) == 1
        load(tmp_lake, "gov_stats_monthly")
    assert bronze_rows(tmp_lake) == [("210100", "2024-03", GOOD, "1")]
    ids = [e["batch_id"] for e in IngestLedger(tmp_lake).entries()]
    assert len(set(ids)) == 3 and ids[2] == ids[0] + "-2"


def test_unreadable_file_fails_its_batch_and_keeps_bronze(tmp_lake: LakeTables) -> None:
    name = "gov_stats_monthly_210100_202403.csv"
    deliver(tmp_lake, name, report([row(GOOD)]))
    load(tmp_lake, "gov_stats_monthly")
    deliver(tmp_lake, name, "统一社会信用代码,企业名称\r\nx,y".encode())
    result = load(tmp_lake, "gov_stats_monthly")
    [(batch, message)] = result.failed.items()
    assert "no header line with all of" in message and name in message
    failed = next(e for e in IngestLedger(tmp_lake).entries() if e["batch_id"] == batch)
    assert failed["status"] == "failed" and failed["message"] == message
    assert bronze_rows(tmp_lake) == [("210100", "2024-03", GOOD, "100")]


def test_land_refuses_file_without_unit_and_period(tmp_lake: LakeTables) -> None:
    from ingest.ledger import LandingError

    with pytest.raises(LandingError, match=r"report\.csv: cannot tell the reporting unit and period"):
        deliver(tmp_lake, "report.csv", report([row(GOOD)]))
    result = IngestLedger(tmp_lake).land(
        [Delivery("gov_stats_monthly", "report.csv", report([row(GOOD)]), "210100", "2024-03")]
    )
    assert len(result.landed) == 1


def test_spark_uscc_rule_agrees_with_python(tmp_lake: LakeTables) -> None:
    rng = random.Random(11)
    codes = []
    for _ in range(300):
        body = "".join(rng.choice(uscc.ALPHABET) for _ in range(17))
        good = body + uscc.check_char(body)
        codes += [good, body + rng.choice(uscc.ALPHABET), good[:-2], good.replace(good[3], "I")]
    codes += [None, ""]
    df = tmp_lake.spark.createDataFrame([(c,) for c in codes], "code string")
    got = {
        r.code: r.ok for r in df.select("code", F.expr(uscc.spark_is_valid_sql("code")).alias("ok")).collect()
    }
    for code in codes:
        assert got[code] == uscc.is_valid(code), code


def test_of_two_deliveries_in_one_call_the_later_wins(tmp_lake: LakeTables) -> None:
    name = "gov_stats_monthly_210100_202403.csv"
    IngestLedger(tmp_lake).land(
        [
            Delivery("gov_stats_monthly", name, report([row(GOOD, "1")])),
            Delivery("gov_stats_monthly", name, report([row(GOOD, "2")])),
        ]
    )
    result = load(tmp_lake, "gov_stats_monthly")
    assert len(result.loaded) == 1 and len(result.superseded) == 1
    assert bronze_rows(tmp_lake) == [("210100", "2024-03", GOOD, "2")]


def test_pending_deliveries_sensor(tmp_lake: LakeTables) -> None:
    import dagster as dg

    from orchestration.jobs import sensors

    [pending_deliveries_sensor] = [s for s in sensors() if s.name == "pending_deliveries_sensor"]

    context = dg.build_sensor_context()
    assert isinstance(pending_deliveries_sensor(context), dg.SkipReason)  # no ledger, empty inboxes
    deliver(tmp_lake, "gov_stats_monthly_210100_202403.csv", report([row(GOOD)]))
    lake = tmp_lake.lake
    lake.write_bytes(
        lake.uri("landing", "_inbox", "gov_stats_monthly", "gov_stats_monthly_210100_202406.csv"),
        report([row(GOOD, period="2024-06")]),
    )
    [request] = pending_deliveries_sensor(context)
    assert request.job_name == "ingest_monthly"
    assert request.tags["dagster/asset_partition_range_start"] == "2024-03"
    assert request.tags["dagster/asset_partition_range_end"] == "2024-06"  # gap of 2: one run
    assert {k.to_user_string() for k in request.asset_selection} == {
        "bronze/gov_stats_monthly",
        "quarantine/bronze_gov_stats_monthly",
    }
    # the run collects the inbox and loads both months; then there is nothing left to do
    from ingest.inbox import collect

    assert len(collect(tmp_lake, "gov_stats_monthly").landed) == 1
    assert load(tmp_lake, "gov_stats_monthly", ["2024-03", "2024-04", "2024-05", "2024-06"]).periods == [
        "2024-03",
        "2024-06",
    ]
    assert isinstance(pending_deliveries_sensor(context), dg.SkipReason)


def test_period_ranges_split_on_large_gaps() -> None:
    from orchestration.jobs import period_ranges
    from orchestration.partitions import daily, monthly

    assert period_ranges(monthly, ["2024-01", "2024-04", "2024-12"]) == [
        ("2024-01", "2024-04"),
        ("2024-12", "2024-12"),
    ]
    assert period_ranges(daily, ["2025-01-31", "2025-01-28", "2025-01-25"]) == [("2025-01-25", "2025-01-31")]
    assert period_ranges(daily, ["2025-01-31", "2025-01-25"]) == [("2025-01-25",) * 2, ("2025-01-31",) * 2]
    with pytest.raises(ValueError, match="outside the partitions"):
        period_ranges(monthly, ["1999-01"])


def test_unidentified_inbox_file_is_moved_aside_with_a_reason(tmp_lake: LakeTables) -> None:
    from ingest.inbox import collect

    lake = tmp_lake.lake
    lake.write_bytes(lake.uri("landing", "_inbox", "gov_stats_monthly", "monthly report.csv"), b"x")
    result = collect(tmp_lake, "gov_stats_monthly")
    target = result.unidentified["monthly report.csv"]
    assert lake.read_bytes(target) == b"x"
    assert "does not match" in lake.read_bytes(target + ".reason.txt").decode()
    assert lake.list_files(lake.uri("landing", "_inbox")) == []


def test_gbk_csv_and_xlsx_with_the_same_content_give_the_same_bronze_values(tmp_lake: LakeTables) -> None:
    from simulators.sources import csv_bytes, xlsx_bytes

    lines = [["辽宁省规模以上工业企业主要指标月报"], ["填报单位：沈阳市统计局 报告期：2024年3月"], HEADER,
             row(GOOD, "1,000.50"), row(OTHER, "２００"), ["合计", "", "", "", "", "1200.5"], [],
             ["注：本表为快报数据。"]]  # fmt: skip
    deliver(tmp_lake, "gov_stats_monthly_210100_202403.csv", csv_bytes(lines, "gbk"))
    deliver(tmp_lake, "gov_stats_monthly_210200_202403.xlsx", xlsx_bytes(lines))
    report = load(tmp_lake, "gov_stats_monthly")
    assert (report.rows_read, report.rows_bronze, report.rows_skipped) == (16, 4, 12)
    data = [
        c
        for c in tmp_lake.read("bronze", "gov_stats_monthly").columns
        if not c.startswith("_") and c != "reporting_unit"
    ]
    bronze = tmp_lake.read("bronze", "gov_stats_monthly")
    by_unit = {
        u: sorted(tuple(r) for r in bronze.filter(f"reporting_unit = '{u}'").select(*data).collect())
        for u in ("210100", "210200")
    }
    assert by_unit["210100"] == by_unit["210200"] and len(by_unit["210100"]) == 2
    hashes = {
        u: sorted(r._record_hash for r in bronze.filter(f"reporting_unit = '{u}'").collect())
        for u in ("210100", "210200")
    }
    assert hashes["210100"] == hashes["210200"]  # same values, same record hash


def test_schema_drift_is_kept_in_bronze_and_reported(tmp_lake: LakeTables) -> None:
    from simulators.sources import csv_bytes

    deliver(
        tmp_lake,
        "gov_stats_monthly_210100_202403.csv",
        csv_bytes([[*HEADER, "所属园区"], [*row(GOOD), "浑南科技城"], [*row(OTHER), ""]], "utf-8-sig"),
    )
    report = load(tmp_lake, "gov_stats_monthly")
    assert report.unmapped_fields == {"所属园区"}
    drift = {r.uscc: r._unmapped for r in tmp_lake.read("bronze", "gov_stats_monthly").collect()}
    assert json.loads(drift[GOOD]) == {"所属园区": "浑南科技城"} and drift[OTHER] is None
    [entry] = IngestLedger(tmp_lake).entries()
    assert entry["message"] == "schema drift: fields not in the contract kept in _unmapped: 所属园区"
