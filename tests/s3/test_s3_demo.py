"""The whole slice with the lake on a real S3 server (SeaweedFS on loopback)."""

import csv
import io
from pathlib import Path

import pytest

from catalog import load_catalog
from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.support.cli import run_cli
from tests.support.seaweed import SeaweedS3, make_bucket

pytestmark = pytest.mark.s3


def test_demo_on_s3(seaweed: SeaweedS3, tmp_path: Path) -> None:
    make_bucket(seaweed, "lake")
    env = {
        **seaweed.env("lake", "ibrain"),
        "IBRAIN_INBOX": str(tmp_path / "inbox"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }
    proc = run_cli(["demo", "--scale", "0.02", "--months", "2024-01:2024-03"], env)
    assert "SUCCESS" in proc.stdout

    lake = Lake(Settings.from_env(env))
    assert lake.root == "s3://lake/ibrain"
    tables = {ref.name for ref in lake.delta_tables()}
    expected = {c.name for c in load_catalog().values()}
    assert tables == expected
    assert all(ref.uri.startswith("s3://lake/ibrain/") for ref in lake.delta_tables())
    export = lake.read_bytes(lake.uri("exchange", "chain_output_month", "chain_output_month.csv"))
    header = next(csv.reader(io.StringIO(export.decode())))
    assert "leading_enterprise_uscc" not in header and "gross_output" in header
    landed = lake.list_files(lake.uri("landing", "gov_stats_monthly"))
    delivered = sorted((tmp_path / "inbox" / "gov_stats_monthly").iterdir())
    assert len(delivered) > 3 and len(landed) == len(delivered)

    # the same demo again on S3 changes no row count
    summary_before = run_cli(["summary"], env).stdout
    again = run_cli(["demo", "--scale", "0.02", "--months", "2024-01:2024-03"], env)
    assert "landed 0 new deliveries" in again.stdout
    summary_after = run_cli(["summary"], env).stdout
    before, after = rows_of(summary_before), rows_of(summary_after)
    # the registry API was pulled again: one more audit row, no data
    assert int(after.pop("audit.api_pull_log")) == int(before.pop("audit.api_pull_log")) + 1
    # the quality results record the new run's evaluations; scores and issues stay as they were
    assert int(after.pop("quality.dq_result").replace(",", "")) > int(
        before.pop("quality.dq_result").replace(",", "")
    )
    assert after == before


def rows_of(summary: str) -> dict[str, str]:
    out = {}
    for line in summary.splitlines():
        parts = line.split()
        if len(parts) == 4 and "." in parts[0] and parts[2].replace(",", "").isdigit():
            out[parts[0]] = parts[2]
    return out


def test_sensor_sees_files_dropped_into_the_s3_inbox(seaweed: SeaweedS3, tmp_path: Path) -> None:
    from orchestration.jobs import ingest_run_requests, pending_work

    make_bucket(seaweed, "drop")
    env = {**seaweed.env("drop", "ibrain")}
    lake = Lake(Settings.from_env(env))
    assert pending_work(lake) == {}
    lake.write_bytes(
        lake.uri("landing", "_inbox", "ent_telemetry", "ent_telemetry_20250131_07.jsonl"), b"{}\n"
    )
    assert pending_work(lake) == {"ent_telemetry": ["2025-01-31"]}
    [request] = ingest_run_requests(pending_work(lake))
    assert request.job_name == "ingest_daily"
