"""`ibrain batch withdraw`: a bad delivery batch leaves bronze, silver, their quarantine and what was
built from them (Delta DELETE: older versions keep the rows), the ledger says who withdrew it and
why, and it stays out — while a corrected delivery for the same unit and period loads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from catalog import get_contract
from catalog.tables import LakeTables
from ibrain import delta
from ibrain.lake import Lake
from ibrain.settings import Settings
from ingest.bronze import load
from ingest.ledger import Delivery, IngestLedger
from operations.withdraw import WithdrawError, withdraw
from simulators.sources import headers
from tests.conftest import lake_env
from tests.support.cli import run_cli
from tests.support.identity import ENGINEER, engineer_env

SIMULATE = ["simulate", "--scale", "0.03", "--months", "2024-01:2024-02", "--source", "gov_stats_monthly",
            "--defect", "corrupt_file=0", "--land"]  # fmt: skip
TABLES = [
    "bronze.gov_stats_monthly",
    "quarantine.bronze_gov_stats_monthly",
    "silver.enterprise_month_stats",
    "quarantine.silver_enterprise_month_stats",
    "gold.fct_enterprise_month",
]


def batch_rows(tables: LakeTables, name: str, batch_id: str) -> int:
    return tables.read(*name.split(".")).filter(f"_batch_id = '{batch_id}'").count()


def ledger_row(tables: LakeTables, batch_id: str):
    [row] = tables.read("audit", "ingest_ledger").filter(f"batch_id = '{batch_id}'").collect()
    return row


def assert_counts_reconcile(tables: LakeTables) -> None:
    """Per loaded batch: the ledger's bronze rows are in bronze, and bronze = silver + quarantine."""

    def per_batch(name: str) -> dict[str, int]:
        df = tables.read(*name.split(".")).groupBy("_batch_id").count()
        return {r["_batch_id"]: r["count"] for r in df.collect()}

    bronze = per_batch("bronze.gov_stats_monthly")
    silver = per_batch("silver.enterprise_month_stats")
    rejected = per_batch("quarantine.silver_enterprise_month_stats")
    loaded = tables.read("audit", "ingest_ledger").filter("status = 'loaded'").collect()
    assert set(bronze) == {r.batch_id for r in loaded if r.rows_bronze}
    for r in loaded:
        assert bronze.get(r.batch_id, 0) == r.rows_bronze, r.batch_id
        assert bronze.get(r.batch_id, 0) == silver.get(r.batch_id, 0) + rejected.get(r.batch_id, 0), (
            r.batch_id
        )


@pytest.mark.e2e
@pytest.mark.scenario
def test_withdraw_a_batch_then_a_corrected_delivery(tmp_path: Path) -> None:
    env = engineer_env(lake_env(tmp_path))
    run_cli(SIMULATE, env)
    run_cli(["run"], env)
    tables = LakeTables(lake=Lake(Settings.from_env(env)))
    ledger = tables.read("audit", "ingest_ledger").filter("status = 'loaded'").collect()
    batch = max(
        (r for r in ledger if r.file_name.endswith(".csv")), key=lambda r: (r.rows_bronze, r.batch_id)
    )
    before = {name: batch_rows(tables, name, batch.batch_id) for name in TABLES}
    totals = {name: tables.read(*name.split(".")).count() for name in TABLES}
    assert before["bronze.gov_stats_monthly"] == batch.rows_bronze > 0
    assert before["silver.enterprise_month_stats"] > 0 and before["gold.fct_enterprise_month"] > 0

    unknown = run_cli(["batch", "withdraw", "b0000000000000000", "--reason", "测试"], env, check=False)
    assert unknown.returncode == 1 and "no batch 'b0000000000000000'" in unknown.stderr, unknown.stderr

    out = run_cli(["batch", "withdraw", batch.batch_id, "--reason", "测试"], env).stdout
    for name in TABLES[:4]:
        assert f"  {name}: {before[name]} rows deleted" in out, out
    assert "ibrain_pipeline run" in out and "SUCCESS" in out, out

    # gone from every layer, the totals down by exactly the batch's rows
    for name in TABLES:
        assert batch_rows(tables, name, batch.batch_id) == 0, name
        assert tables.read(*name.split(".")).count() == totals[name] - before[name], name
    # … and still in Delta history: the version before the DELETE has them
    for name in [n for n in TABLES[:4] if before[n]]:
        ref = tables.lake.ref(*name.split("."))
        [commit] = [c for c in delta.history(tables.lake, ref) if c["operation"] == "DELETE"]
        assert batch.batch_id in commit["operationParameters"]["predicate"]
        old = tables.spark.read.format("delta").option("versionAsOf", commit["version"] - 1).load(ref.uri)
        assert old.filter(f"_batch_id = '{batch.batch_id}'").count() == before[name], name

    row = ledger_row(tables, batch.batch_id)
    assert row.status == "withdrawn" and row.withdrawn_reason == "测试"
    assert row.withdrawn_by == ENGINEER and row.withdrawn_at is not None  # the logged-in user
    assert row.rows_bronze == batch.rows_bronze  # what was loaded stays on record
    assert_counts_reconcile(tables)

    again = run_cli(["batch", "withdraw", batch.batch_id, "--reason", "再次"], env, check=False)
    assert again.returncode == 1 and "already withdrawn" in again.stderr, again.stderr

    # The same deliveries landed again: the withdrawn one is not; a corrected file for the same
    # unit and period (one enterprise line fewer) lands and loads.
    relanded = run_cli(SIMULATE, env).stdout
    assert "landed 0 new deliveries" in relanded, relanded
    original = Path(env["IBRAIN_INBOX"]) / "gov_stats_monthly" / batch.file_name
    corrected = tmp_path / "corrected" / batch.file_name
    corrected.parent.mkdir()
    lines = original.read_bytes().splitlines(keepends=True)
    corrected.write_bytes(b"".join(lines[:4] + lines[5:]))
    run_cli(["ingest", "gov_stats_monthly", "--path", str(corrected)], env)
    run_cli(["run"], env)

    for name in TABLES:
        assert batch_rows(tables, name, batch.batch_id) == 0, f"{name}: the withdrawn batch came back"
    assert ledger_row(tables, batch.batch_id).status == "withdrawn"
    unit_period = f"reporting_unit = '{batch.reporting_unit}' AND period = '{batch.period}'"
    [fixed] = tables.read("audit", "ingest_ledger").filter(unit_period).filter("status = 'loaded'").collect()
    assert fixed.batch_id != batch.batch_id and fixed.rows_read == batch.rows_read - 1
    assert batch_rows(tables, "bronze.gov_stats_monthly", fixed.batch_id) == fixed.rows_bronze > 0
    assert batch_rows(tables, "silver.enterprise_month_stats", fixed.batch_id) > 0
    assert batch_rows(tables, "gold.fct_enterprise_month", fixed.batch_id) > 0
    assert_counts_reconcile(tables)


# -- without Dagster: a ledger written before withdrawal existed ------------------------------------
HEADER = headers("gov_stats_monthly")


def report(uscc: str, output: str) -> bytes:
    lines = [HEADER, [uscc, "测试机床有限公司", "210102", "3421", "2024-03", output, "90", "5", "10", "2"]]
    return "\r\n".join(",".join(line) for line in lines).encode("utf-8")


@pytest.mark.integration
def test_withdraw_on_a_ledger_without_the_withdrawal_columns(tmp_lake: LakeTables) -> None:
    contract = get_contract("audit", "ingest_ledger")
    old_columns = [c for c in contract.columns if not c.name.startswith("withdrawn_")]
    types = {"string": pa.string(), "bigint": pa.int64(), "timestamp": pa.timestamp("us", tz="UTC")}
    old_row = {c.name: None for c in old_columns} | {
        "batch_id": "b00000000000000aa",
        "source": "gov_stats_monthly",
        "reporting_unit": "210200",
        "period": "2024-02",
        "file_name": "gov_stats_monthly_210200_202402.csv",
        "landing_path": "landing/gov_stats_monthly/2024-02/b00000000000000aa__x.csv",
        "content_sha256": "00" * 32,
        "size_bytes": 1,
        "arrived_at": dt.datetime(2024, 3, 9, tzinfo=dt.UTC),
        "status": "superseded",
    }
    uri = tmp_lake.lake.table_uri("audit", "ingest_ledger")
    write_deltalake(uri, pa.table({c.name: pa.array([old_row[c.name]], types[c.type]) for c in old_columns}))
    [old] = IngestLedger(tmp_lake).entries()  # read as written: no withdrawal columns yet
    assert old["batch_id"] == "b00000000000000aa" and "withdrawn_by" not in old

    name = "gov_stats_monthly_210100_202403.csv"
    bad = report("91210100MA0QC3L40K", "100")
    [batch_id] = IngestLedger(tmp_lake).land([Delivery("gov_stats_monthly", name, bad)]).landed
    have = {f.name for f in DeltaTable(uri).schema().fields}
    assert {"withdrawn_by", "withdrawn_at", "withdrawn_reason"} <= have  # added on the first write
    assert load(tmp_lake, "gov_stats_monthly").loaded == [batch_id]
    assert tmp_lake.read("bronze", "gov_stats_monthly").count() == 1

    with pytest.raises(WithdrawError, match="no batch 'bnope'"):
        withdraw(tmp_lake, "bnope", "测试", "tester")
    with pytest.raises(WithdrawError, match="reason"):
        withdraw(tmp_lake, batch_id, "  ", "tester")
    now = dt.datetime(2024, 4, 20, 8, 0)
    result = withdraw(tmp_lake, batch_id, "数据有误", "tester", now=now)
    assert result.removed["bronze.gov_stats_monthly"] == 1 and result.rows_removed == 1
    assert tmp_lake.read("bronze", "gov_stats_monthly").count() == 0
    [entry] = [e for e in IngestLedger(tmp_lake).entries() if e["batch_id"] == batch_id]
    assert (entry["status"], entry["withdrawn_by"], entry["withdrawn_at"]) == ("withdrawn", "tester", now)
    assert entry["withdrawn_reason"] == "数据有误"

    # nothing pending: a load (or a replay of the period) does not bring it back
    assert load(tmp_lake, "gov_stats_monthly").loaded == []
    assert load(tmp_lake, "gov_stats_monthly", ["2024-03"], replay=True).loaded == []
    assert tmp_lake.read("bronze", "gov_stats_monthly").count() == 0
    # the same content again is refused; a corrected one lands and loads
    again = IngestLedger(tmp_lake).land([Delivery("gov_stats_monthly", name, bad)])
    assert (again.landed, again.withdrawn) == ([], [name])
    fixed = report("91210100MA0QC3L40K", "120")
    [fixed_id] = IngestLedger(tmp_lake).land([Delivery("gov_stats_monthly", name, fixed)]).landed
    assert load(tmp_lake, "gov_stats_monthly").loaded == [fixed_id]
    [row] = tmp_lake.read("bronze", "gov_stats_monthly").collect()
    assert (row._batch_id, row.gross_output) == (fixed_id, "120")
