"""Execution of the quality checks on the real engine (issue 6): Great Expectations suites per
month, delivery timeliness from the ingest ledger, accessibility, dbt test results, and what they
write to quality.dq_result."""

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import Row

from catalog import get_contract
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables
from ingest.ledger import Delivery, IngestLedger
from quality.coverage import gx_expectation_specs
from quality.expectations import run_suite
from quality.store import record
from quality.timeliness import (
    CST,
    accessibility,
    delivery_deadline,
    delivery_timeliness,
    ledger_timeliness,
    upstream_timeliness,
)

pytestmark = pytest.mark.integration
STATS = get_contract("silver", "enterprise_month_stats")
BRONZE_STATS = get_contract("bronze", "gov_stats_monthly")
USCC = "91210102MA0QC3L40X"


def stats_row(n: int, period: dt.date, uscc: str | None = USCC, gross_output: str = "100.00") -> dict:
    return {
        "enterprise_id": f"E{n:04d}",
        "uscc": uscc,
        "uscc_reported": uscc,
        "resolution": "uscc",
        "enterprise_name": "沈阳华晟机床有限公司",
        "region_code": "210102",
        "city_code": "210100",
        "industry_code": "C3421",
        "gross_output": Decimal(gross_output),
        "reporting_unit": "210100",
        "period": period,
        "_batch_id": "b1",
        "_source_file": f"gov_stats_monthly_210100_{period:%Y%m}.csv",
        "_row_number": n,
        "_record_hash": f"h{n}",
        "_ingested_at": dt.datetime(2024, 4, 1),
    }


def stats_frame(tables: LakeTables, rows: list[dict]):
    schema = struct_type(STATS)
    full = [Row(**{f.name: r.get(f.name) for f in schema.fields}) for r in rows]
    return tables.spark.createDataFrame(full, schema)


MARCH, APRIL = dt.date(2024, 3, 1), dt.date(2024, 4, 1)


def test_gx_suite_per_month_gives_x_equal_a_over_b(tmp_lake: LakeTables) -> None:
    rows = [stats_row(i, MARCH) for i in range(1, 4)] + [stats_row(4, MARCH, uscc=None)]
    rows += [stats_row(5, APRIL), stats_row(6, APRIL)]
    df = stats_frame(tmp_lake, rows)

    evaluations = run_suite(STATS, df, ["2024-03", "2024-04"])

    rule_ids = {s["rule_id"] for s in gx_expectation_specs(STATS)}
    assert {e.rule_id for e in evaluations} == rule_ids and len(evaluations) == 2 * len(rule_ids)
    by = {(e.rule_id, e.period): e for e in evaluations}
    march = by[("not_null:uscc", MARCH)]
    assert (march.checked, march.passed_rows) == (4, 3)
    assert march.ratio == 3 / 4 and not march.passed  # threshold 0.99
    assert march.dimension == "完整性" and march.severity == "WARN" and march.source == "great_expectations"
    assert march.sample == ("gov_stats_monthly_210100_202403.csv line 4: uscc=None",)
    april = by[("not_null:uscc", APRIL)]
    assert (april.checked, april.passed_rows) == (2, 2) and april.passed
    others = [e for e in evaluations if e.rule_id != "not_null:uscc"]
    assert all(e.passed_rows == e.checked and e.passed for e in others)


def test_gx_between_and_in_set_from_specs(tmp_lake: LakeTables) -> None:
    """Range and accepted-values expectations: a value out of range or set fails its row only;
    nulls are not judged by them (they have not-null rules of their own)."""
    rows = [stats_row(1, MARCH), stats_row(2, MARCH, gross_output="-5.00"), stats_row(3, MARCH)]
    rows[2]["resolution"] = "guessed"
    df = stats_frame(tmp_lake, rows)
    specs = [
        {"rule_id": "value_between:gross_output", "dimension": "准确性", "severity": "WARN",
         "threshold": 0.99, "expectation_type": "ExpectColumnValuesToBeBetween",
         "kwargs": {"column": "gross_output", "min_value": 0, "mostly": 0.99}},
        {"rule_id": "accepted_values:resolution", "dimension": "规范性", "severity": "WARN", "threshold": 0.5,
         "expectation_type": "ExpectColumnValuesToBeInSet",
         "kwargs": {"column": "resolution", "value_set": ["uscc", "name"], "mostly": 0.5}},
    ]  # fmt: skip

    between, in_set = run_suite(STATS, df, [MARCH], specs=specs)

    assert (between.checked, between.passed_rows, between.passed) == (3, 2, False)
    assert between.sample == ("gov_stats_monthly_210100_202403.csv line 2: gross_output=Decimal('-5.00')",)
    assert (in_set.checked, in_set.passed_rows, in_set.passed) == (3, 2, True)
    assert in_set.dimension == "规范性"


def utc(year, month, day, hour=12, minute=0) -> dt.datetime:
    """A CST wall-clock time as the ledger keeps it (naive UTC)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=CST).astimezone(dt.UTC).replace(tzinfo=None)


def test_deadlines_come_from_the_bronze_contracts() -> None:
    assert delivery_deadline(BRONZE_STATS.ingest, "2024-03") == dt.datetime(2024, 4, 10, 23, 59, tzinfo=CST)
    supply = get_contract("bronze", "ind_supply_chain").ingest
    assert delivery_deadline(supply, "2024-04") == dt.datetime(2024, 4, 20, 23, 59, tzinfo=CST)
    telemetry = get_contract("bronze", "ent_telemetry").ingest
    # the file of hour 14 ends at 15:00 and is due two hours later
    assert delivery_deadline(telemetry, "2025-01-26", "h14") == dt.datetime(2025, 1, 26, 17, 0, tzinfo=CST)


def test_timeliness_from_a_ledger_with_one_late_delivery(tmp_lake: LakeTables) -> None:
    def delivery(unit: str, arrived: dt.datetime, content: bytes) -> Delivery:
        name = f"gov_stats_monthly_{unit}_202403.csv"
        return Delivery("gov_stats_monthly", name, content, unit, "2024-03", arrived_at=arrived)

    IngestLedger(tmp_lake).land(
        [
            delivery("210100", utc(2024, 4, 3), b"a"),
            delivery("210200", utc(2024, 4, 10, 23, 30), b"b"),  # just in time
            delivery("210300", utc(2024, 4, 12, 9), b"c"),  # two days late
            # a correction of an on-time delivery arrives late: not a delivery of its own
            delivery("210100", utc(2024, 4, 20), b"a2"),
        ]
    )
    ledger = tmp_lake.read("audit", "ingest_ledger")
    assert ledger.count() == 4

    [march] = ledger_timeliness(BRONZE_STATS, ledger, ["2024-03"])
    assert (march.period, march.delivered, march.on_time) == (MARCH, 3, 2)
    assert march.late == (
        "gov_stats_monthly_210300_202403.csv: arrived 2024-04-12 09:00 CST, due 2024-04-10 23:59 CST "
        "(late by 33.0 h)",
    )

    evaluations = delivery_timeliness(tmp_lake, [BRONZE_STATS, STATS], BRONZE_STATS, ["2024-03"])
    # the generic rule applies to silver (catalog/quality_rules.yaml), recorded from the ledger
    [silver] = [e for e in evaluations if e.dataset == STATS.name]
    assert (silver.checked, silver.passed_rows) == (3, 2) and silver.passed_rows == silver.checked - 1
    assert silver.rule_id == "timeliness" and silver.dimension == "时效性" and silver.source == "ledger"
    assert not silver.passed and silver.sample == march.late


def test_recording_writes_dq_result_rows_with_their_dimensions(tmp_lake: LakeTables) -> None:
    rows = [stats_row(i, MARCH) for i in range(1, 4)] + [stats_row(4, MARCH, uscc=None)]
    tmp_lake.append(STATS, stats_frame(tmp_lake, rows))
    IngestLedger(tmp_lake).land(
        [
            Delivery("gov_stats_monthly", "gov_stats_monthly_210100_202403.csv", b"a", "210100", "2024-03",
                     arrived_at=utc(2024, 4, 12))  # late
        ]
    )  # fmt: skip
    df = tmp_lake.read(STATS.layer, STATS.table)
    evaluations = run_suite(STATS, df, ["2024-03"])
    evaluations += delivery_timeliness(tmp_lake, [STATS], BRONZE_STATS, ["2024-03"])
    evaluations += accessibility(tmp_lake, STATS)

    update = record(tmp_lake, "test-run", evaluations)

    result = tmp_lake.read("quality", "dq_result").filter("run_id = 'test-run'").collect()
    assert len(result) == len(evaluations) == update.evaluations
    by_rule = {r.rule_id: r for r in result}
    uscc = by_rule["not_null:uscc"]
    assert (uscc.dimension, uscc.source, uscc.a_passed, uscc.b_checked) == (
        "完整性",
        "great_expectations",
        3,
        4,
    )
    assert uscc.x_ratio == 0.75 and not uscc.passed and uscc.period == MARCH
    timely = by_rule["timeliness"]
    assert (timely.dimension, timely.source, timely.a_passed, timely.b_checked) == ("时效性", "ledger", 0, 1)
    access = by_rule["accessibility"]
    assert (access.dimension, access.source) == ("可访问性", "catalog")
    assert access.a_passed == access.b_checked == len(STATS.columns) and access.passed
    assert all(r.x_ratio == pytest.approx(r.a_passed / r.b_checked) for r in result if r.b_checked)
    assert {"silver.enterprise_month_stats:not_null:uscc", "silver.enterprise_month_stats:timeliness"} <= set(
        update.opened
    )


def test_accessibility_counts_columns_and_scores_an_unreadable_table_zero(tmp_lake: LakeTables) -> None:
    [missing] = accessibility(tmp_lake, STATS)  # never written: cannot be read by its name
    assert (missing.passed_rows, missing.checked) == (0, len(STATS.columns))
    assert "cannot be read" in missing.sample[0]

    # written without two of its columns: those two fail
    df = stats_frame(tmp_lake, [stats_row(1, MARCH)]).drop("gross_output", "city_code")
    tmp_lake.spark.sql("CREATE SCHEMA IF NOT EXISTS silver")
    df.write.format("delta").save(tmp_lake.ref(STATS).uri)
    tmp_lake.spark.sql(
        f"CREATE TABLE silver.enterprise_month_stats USING delta LOCATION '{tmp_lake.ref(STATS).uri}'"
    )
    [partial] = accessibility(tmp_lake, STATS)
    assert (partial.passed_rows, partial.checked) == (len(STATS.columns) - 2, len(STATS.columns))
    assert sorted(partial.sample) == ["city_code: missing", "gross_output: missing"]


def test_upstream_timeliness_of_a_derived_table(tmp_lake: LakeTables) -> None:
    """A derived monthly table is timely when it holds the latest month its inputs hold."""
    fact = get_contract("gold", "fct_enterprise_month")
    tmp_lake.append(STATS, stats_frame(tmp_lake, [stats_row(1, MARCH), stats_row(2, APRIL)]))
    fact_rows = [Row(**{c.name: None for c in fact.columns} | {"period": MARCH, "enterprise_id": "E0001"})]
    tmp_lake.append(fact, tmp_lake.spark.createDataFrame(fact_rows, struct_type(fact)))

    [stale] = upstream_timeliness(tmp_lake, fact, [STATS], rebuilt=True, source="catalog")
    assert (stale.period, stale.passed_rows, stale.checked, stale.dimension) == (APRIL, 0, 1, "时效性")

    more = [Row(**{c.name: None for c in fact.columns} | {"period": APRIL, "enterprise_id": "E0001"})]
    tmp_lake.append(fact, tmp_lake.spark.createDataFrame(more, struct_type(fact)))
    [timely] = upstream_timeliness(tmp_lake, fact, [STATS], rebuilt=False, source="catalog")
    assert (timely.period, timely.passed_rows, timely.checked) == (APRIL, 1, 1)


def test_dbt_test_results_become_evaluations(tmp_lake: LakeTables) -> None:
    """A = the model's rows (read from the lake) − the failing rows dbt reports, rule and
    dimension from the test's meta (or its kind)."""
    from quality.dbt_results import DbtTestResult, dbt_test_evaluations

    chain = get_contract("gold", "dim_chain")
    rows = [
        Row(chain_code="magnesite", chain_name_zh="菱镁", link="上游", link_order=1, product_category=f"c{i}",
            category_order=i, industry_codes="C1093", industry_class_count=1)
        for i in range(10)
    ]  # fmt: skip
    tmp_lake.append(chain, tmp_lake.spark.createDataFrame(rows, struct_type(chain)))
    manifest = {
        "nodes": {
            "test.p.t1": {"name": "accepted_values_dim_chain_link", "config": {"severity": "error", "meta": {
                "rule_id": "accepted_values:link", "dimension": "规范性"}},
                "test_metadata": {"name": "accepted_values"}},
            "test.p.t2": {"name": "relationships_dim_chain_x", "config": {"severity": "error", "meta": {}},
                          "test_metadata": {"name": "relationships"}},
        }
    }  # fmt: skip
    results = [
        DbtTestResult("gold.dim_chain", "t1", "test.p.t1", passed=False, status="fail", failures=3),
        DbtTestResult("gold.dim_chain", "t2", "test.p.t2", passed=True, status="pass", failures=0),
        DbtTestResult("gold.dim_chain", "t3", "test.p.t3", passed=False, status="skipped", failures=None),
    ]

    failed, passed = dbt_test_evaluations(tmp_lake, manifest, results)  # the skipped test is left out

    assert (failed.dataset, failed.rule_id, failed.dimension, failed.severity) == (
        "gold.dim_chain", "accepted_values:link", "规范性", "ERROR")  # fmt: skip
    assert (failed.checked, failed.passed_rows, failed.passed, failed.source) == (10, 7, False, "dbt")
    assert (passed.rule_id, passed.dimension, passed.checked, passed.passed_rows) == (
        "relationships_dim_chain_x", "一致性", 10, 10)  # fmt: skip
