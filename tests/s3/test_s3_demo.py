"""The whole slice with the lake on a real S3 server (SeaweedFS on loopback)."""

import json
from pathlib import Path

import pytest

from catalog import load_catalog
from ibrain.lake import Lake
from ibrain.settings import Settings
from ibrain.summary import package_files
from tests.conftest import dagster_home
from tests.support.cli import run_cli
from tests.support.seaweed import SeaweedS3, make_bucket

pytestmark = pytest.mark.s3

SIM_ARGS = ["--scale", "0.02", "--months", "2024-01:2024-03"]
# what `ibrain demo` simulates: every source, every defect but corrupt files
SIMULATE = ["simulate", *SIM_ARGS, "--defect", "corrupt_file=0"]


@pytest.mark.scenario
def test_demo_on_s3(seaweed: SeaweedS3, tmp_path: Path) -> None:
    make_bucket(seaweed, "lake")
    env = {
        **seaweed.env("lake", "ibrain"),
        "IBRAIN_INBOX": str(tmp_path / "inbox"),
        "DAGSTER_HOME": str(dagster_home(tmp_path)),
        # a lake on S3 has no "beside": the demo's state database and token key are named
        "IBRAIN_ENV": "demo",
        "IBRAIN_DB_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "IBRAIN_TOKEN_KEY_FILE": str(tmp_path / "keys" / "token.json"),
        "IBRAIN_CHECKPOINT_KEY_FILE": str(tmp_path / "keys" / "checkpoint.json"),
        "IBRAIN_MASKING_KEY_FILE": str(tmp_path / "keys" / "masking.json"),
        "IBRAIN_DELIVERY_KEY_DIR": str(tmp_path / "keys" / "delivery"),
    }
    proc = run_cli(["demo", *SIM_ARGS], env)
    assert "SUCCESS" in proc.stdout

    lake = Lake(Settings.from_env(env))
    assert lake.root == "s3://lake/ibrain"
    tables = {ref.name for ref in lake.delta_tables()}
    expected = {c.name for c in load_catalog().values()}
    assert tables == expected
    assert all(ref.uri.startswith("s3://lake/ibrain/") for ref in lake.delta_tables())
    payloads = [f for f in package_files(lake) if f.endswith("payload.jsonl")]
    assert payloads and all(f.startswith("s3://lake/ibrain/exchange/") for f in payloads)
    economic = next(f for f in payloads if "economic_city_chain_month" in f)
    line = json.loads(lake.read_bytes(economic).splitlines()[0])
    assert "gross_output" in line and "largest_share" not in line
    landed = lake.list_files(lake.uri("landing", "gov_stats_monthly"))
    delivered = sorted((tmp_path / "inbox" / "gov_stats_monthly").iterdir())
    assert len(delivered) > 3 and len(landed) == len(delivered)

    # The same deliveries again: landing on S3 recognises every one by its content, so nothing is
    # pending and no run has anything to do. (A whole second demo, pipeline included, changing no
    # data is tested on a local lake: tests/e2e/test_demo.py.)
    from orchestration.jobs import pending_work

    ledger_before = ledger_rows(lake)
    again = run_cli([*SIMULATE, "--land"], env)
    assert "landed 0 new deliveries" in again.stdout, again.stdout
    assert ledger_rows(lake) == ledger_before
    assert pending_work(lake) == {}


def ledger_rows(lake: Lake) -> list[tuple]:
    """The ingest ledger on S3, read with delta-rs (no engine in this process)."""
    from deltalake import DeltaTable

    table = DeltaTable(lake.table_uri("audit", "ingest_ledger"), storage_options=lake.storage_options())
    rows = table.to_pyarrow_table(columns=["batch_id", "status", "content_sha256"]).to_pylist()
    return sorted(tuple(r.values()) for r in rows)


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
