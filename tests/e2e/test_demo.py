"""`ibrain demo` end to end: every layer populated, checks pass, exports graded, re-runs safe.

The tests that run something again (a second demo, a backfill, maintenance) do it on a copy of the
demo lake (``lake_copy``); the others only read the shared one."""

import json
import re
from pathlib import Path

import pytest

from catalog import load_catalog
from ibrain import delta
from ibrain.lake import TABLE_LAYERS
from ibrain.summary import package_files
from tests.e2e.conftest import DEMO_ARGS, DemoLake
from tests.support.cli import run_cli
from tests.support.identity import engineer_env

pytestmark = pytest.mark.e2e


def counts(demo: DemoLake) -> dict[str, tuple[int, int]]:
    lake, spark = demo.tables.lake, demo.tables.spark
    return {
        ref.name: (delta.read(spark, ref).count(), delta.version(lake, ref)) for ref in lake.delta_tables()
    }


def test_every_layer_has_delta_tables(demo_lake: DemoLake) -> None:
    found = {ref.layer for ref in demo_lake.tables.lake.delta_tables()}
    assert {"bronze", "silver", "gold", "theme", "topic", "quarantine", "audit"} <= found
    runs = [line for line in demo_lake.stdout.splitlines() if " run " in line and "checks" in line]
    assert len(runs) >= 3 and all("SUCCESS" in line for line in runs), runs
    # injected defects make some WARN rules fall below their thresholds; no blocking rule fails
    assert "FAILED [ERROR]" not in demo_lake.stdout


def test_every_source_reaches_bronze(demo_lake: DemoLake) -> None:
    from ingest.sources import sources

    t = demo_lake.tables
    for name in sources():
        assert t.read("bronze", name).count() > 0, name


def test_every_table_has_a_contract_with_its_columns_and_types(demo_lake: DemoLake) -> None:
    from catalog.consistency import lake_problems

    tables = demo_lake.tables
    assert {ref.layer for ref in tables.lake.delta_tables()} <= set(TABLE_LAYERS)
    assert lake_problems(tables.lake, tables.spark, load_catalog()) == []


def test_row_counts_reconcile_through_the_layers(demo_lake: DemoLake) -> None:
    from ingest.sources import sources

    t = demo_lake.tables
    ledger = t.read("audit", "ingest_ledger").collect()
    assert ledger and all(e.status == "loaded" for e in ledger)
    assert all(e.rows_read == e.rows_bronze + e.rows_quarantined + e.rows_skipped for e in ledger)
    for name in sources():
        mine = [e for e in ledger if e.source == name]
        assert t.read("bronze", name).count() == sum(e.rows_bronze for e in mine), name
        assert t.read("quarantine", f"bronze_{name}").count() == sum(e.rows_quarantined for e in mine), name
    bronze = t.read("bronze", "gov_stats_monthly").count()
    silver = t.read("silver", "enterprise_month_stats").count()
    silver_q = t.read("quarantine", "silver_enterprise_month_stats").count()
    assert bronze == silver + silver_q
    assert t.spark.table("gold.fct_enterprise_month").count() == silver
    theme = t.spark.table("theme.economic_operation_month")
    gold_total = t.spark.sql("select sum(gross_output) s from gold.fct_enterprise_month").first().s
    assert theme.groupBy().sum("gross_output").first()[0] == gold_total


def test_late_files_are_recorded_with_their_arrival(demo_lake: DemoLake) -> None:
    import datetime as dt
    from pathlib import Path

    import orjson

    manifest = orjson.loads((Path(demo_lake.env["IBRAIN_INBOX"]) / "manifest.json").read_bytes())
    late = {d["file"]: d for d in manifest["deliveries"] if d["late"]}
    assert late
    ledger = {r.file_name: r for r in demo_lake.tables.read("audit", "ingest_ledger").collect()}
    for name, delivery in late.items():
        deadline = dt.datetime.fromisoformat(delivery["deadline"]).replace(tzinfo=None)
        assert ledger[name].arrived_at > deadline, name


def test_year_on_year_growth_exists_for_the_thirteenth_month(demo_lake: DemoLake) -> None:
    """The last month has YoY growth: each cell against the same city/division/chain a year before."""
    spark = demo_lake.tables.spark
    rows = spark.sql(
        "select c.gross_output_yoy_pct as yoy, c.gross_output as cur, p.gross_output as prev "
        "from theme.economic_operation_month as c "
        "join theme.economic_operation_month as p "
        "on p.city_code = c.city_code and p.division_code = c.division_code "
        "and p.chain_code = c.chain_code and p.period = date'2024-01-01' "
        "where c.period = date'2025-01-01' and c.gross_output_yoy_pct is not null"
    ).collect()
    assert rows
    for r in rows:
        assert abs(r.yoy - (float(r.cur) / float(r.prev) - 1) * 100) <= 0.01, r


def test_the_demo_delivered_every_export_and_only_general_values(demo_lake: DemoLake) -> None:
    """`ibrain demo` built and sent the packages: every export of both platforms for the demo's
    months, acknowledged; the payloads hold no 重要 column but the declared downgrades."""
    from serving.deliveries.builder import exports

    for recipient in ("zhgl_platform", "gyhlw_platform"):
        shown = rf"{recipient}: acknowledged [1-9][0-9]* packages"
        assert re.search(shown, demo_lake.stdout), demo_lake.stdout
    outbox = next(line for line in demo_lake.stdout.splitlines() if line.strip().startswith("outbox:"))
    assert "acknowledged" in outbox and "dead_letter" not in outbox and "pending" not in outbox, outbox
    lake = demo_lake.tables.lake
    files = package_files(lake)
    folder = lake.uri("exchange") + "/"
    datasets = {tuple(f.removeprefix(folder).split("/")[:2]) for f in files}
    assert datasets == {(e.recipient, e.dataset) for e in exports()}
    for e in exports():
        allowed = {c.name for c in e.contract.columns if c.classification == "一般"} | set(e.downgraded)
        prefix = f"{folder}{e.recipient}/{e.dataset}/"
        for payload in [f for f in files if f.startswith(prefix) and f.endswith(".jsonl")]:
            for line in lake.read_bytes(payload).decode("utf-8").splitlines():
                row = json.loads(line)
                assert set(row) <= allowed, payload
                if e.disclosure and row["enterprise_count"] < 5:  # primary suppression
                    assert all(row[c] is None for c in e.downgraded), (payload, row)
    assert "largest_share" not in lake.read_bytes(
        next(f for f in files if "economic_city_chain_month" in f and f.endswith(".jsonl"))
    ).decode("utf-8")


def test_small_cells_are_suppressed_in_the_topic(demo_lake: DemoLake) -> None:
    rows = demo_lake.tables.spark.table("topic.chain_output_month").collect()
    assert rows
    for r in rows:
        if r.enterprise_count < 5:
            assert r.gross_output is None and r.energy_intensity is None
        else:
            assert r.gross_output is not None


def test_runs_are_recorded_in_the_dagster_instance(demo_lake: DemoLake) -> None:
    """`ibrain demo` goes through the Dagster instance, so the UI lists the run and its checks."""
    from pathlib import Path

    import dagster as dg

    home = Path(demo_lake.env["DAGSTER_HOME"])
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="ibrain_pipeline"))
        assert runs and runs[-1].status == dg.DagsterRunStatus.SUCCESS
        key = dg.AssetKey(["gold", "fct_enterprise_month"])
        assert instance.get_latest_materialization_event(key) is not None


def delta_versions_under(root: Path) -> dict[str, int]:
    """Every Delta table under ``root`` — each folder holding a ``_delta_log``, at any depth, so a
    table no listing knows of counts too — and its version."""
    from deltalake import DeltaTable

    return {
        str(log.parent.relative_to(root)): DeltaTable(str(log.parent)).version()
        for log in sorted(root.rglob("_delta_log"))
    }


def test_second_demo_changes_no_data(lake_copy: DemoLake) -> None:
    """Nothing new in, nothing new written (issue 12, "no churn"): a second demo on the same lake
    lands nothing and runs what `ibrain run` runs (every pending ingest, then the whole pipeline:
    silver, every dbt model and its tests, quality, exports) — after the demo's own run, that is two
    consecutive runs with nothing new. No Delta table gets a new version, and quality.dq_result
    gains no row: the quality rules were measured again and found as last recorded (README: "What a
    no-change run records"). The only writes are the audit row of the registry API pull the demo
    makes (`ibrain run` pulls only when the API is configured) and the demo's closing audit_trail
    run, which copies the two audit records written since the first one's: the first demo's
    outcome (ops.run) and the second's start."""
    root = Path(lake_copy.env["IBRAIN_LAKE_ROOT"])
    before, rows_before = delta_versions_under(root), counts(lake_copy)
    assert {name.replace(".", "/") for name in rows_before} <= before.keys()  # the walk sees them all
    proc = run_cli(DEMO_ARGS, lake_copy.env)
    assert "landed 0 new deliveries" in proc.stdout
    after, rows_after = delta_versions_under(root), counts(lake_copy)
    pulls = "audit.api_pull_log"  # one more row: the registry API was pulled again
    assert rows_after.pop(pulls)[0] == rows_before.pop(pulls)[0] + 1
    assert after.pop("audit/api_pull_log") == before.pop("audit/api_pull_log") + 1
    trail = "audit.security_trail"
    assert rows_after.pop(trail)[0] == rows_before.pop(trail)[0] + 2
    assert after.pop("audit/security_trail") == before.pop("audit/security_trail") + 1
    changed = {table: (before.get(table), after.get(table)) for table in before.keys() | after.keys()}
    assert {table: versions for table, versions in changed.items() if versions[0] != versions[1]} == {}
    assert rows_after == rows_before  # rows and versions of every listed table, dq_result included


def test_analyst_notebook_runs_against_the_demo_lake(demo_lake: DemoLake) -> None:
    import subprocess
    import sys

    from ibrain.settings import REPO_ROOT
    from tests.support.cli import clean_env

    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "notebooks" / "quickstart.py")],
        env=clean_env(demo_lake.env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "fct_enterprise_month" in proc.stdout
    assert "uscc_check_digit" in proc.stdout and "duplicate" in proc.stdout


def test_backfill_replays_a_month_from_landing_with_identical_rows(lake_copy: DemoLake) -> None:
    lake, spark = lake_copy.tables.lake, lake_copy.tables.spark
    ref = lake.ref("bronze", "gov_stats_monthly")

    def month() -> list[tuple]:
        return sorted(tuple(r) for r in delta.read(spark, ref).filter("period = '2024-03'").collect())

    before, version = month(), delta.version(lake, ref)
    env = engineer_env(lake_copy.env)
    out = run_cli(["backfill", "gov_stats_monthly", "--from", "2024-03"], env).stdout
    assert "ingest_monthly run" in out and "SUCCESS" in out
    assert delta.version(lake, ref) > version  # rewritten…
    assert month() == before  # …with exactly the rows of the original run


def test_maintenance_job_keeps_data_and_checkpoints(lake_copy: DemoLake) -> None:
    before = {k: v[0] for k, v in counts(lake_copy).items()}
    proc = run_cli(["maintain"], engineer_env(lake_copy.env))
    assert "SUCCESS" in proc.stdout
    assert {k: v[0] for k, v in counts(lake_copy).items()} == before
    lake = lake_copy.tables.lake
    ledger_log = lake.list_files(lake.uri("audit", "ingest_ledger", "_delta_log"))
    assert any(p.endswith(".checkpoint.parquet") for p in ledger_log)
