"""Two processes appending to one Delta table at once lose nothing (local folder and S3)."""

import subprocess
import sys
from pathlib import Path

import pytest

from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.support.cli import clean_env
from tests.support.seaweed import SeaweedS3, make_bucket

ROUNDS = 15
WORKER = Path(__file__).resolve().parent.parent / "support" / "append_worker.py"


def table_stats(env: dict[str, str]) -> tuple[int, int, set[tuple[int, int]]]:
    """Rows, Delta version and distinct (worker, round) pairs, read with delta-rs."""
    from deltalake import DeltaTable

    lake = Lake(Settings.from_env(env))
    table = DeltaTable(lake.table_uri("bronze", "concurrency_probe"), storage_options=lake.storage_options())
    data = table.to_pyarrow_table(columns=["worker", "round"])
    pairs = set(zip(data.column("worker").to_pylist(), data.column("round").to_pylist(), strict=True))
    rows, version = data.num_rows, table.version()
    del data, table
    return rows, version, pairs


def run_two_writers(env: dict[str, str]) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(w), str(ROUNDS)],
            env=clean_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (1, 2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-4000:]
        assert "done" in out
    rows, version, pairs = table_stats(env)
    assert rows == 2 * ROUNDS * 100
    assert version == 2 * ROUNDS - 1  # every append committed its own version
    assert pairs == {(w, r) for w in (1, 2) for r in range(ROUNDS)}


def test_concurrent_appends_local(tmp_path: Path) -> None:
    run_two_writers({"IBRAIN_LAKE_ROOT": str(tmp_path / "lake")})


@pytest.mark.s3
def test_concurrent_appends_s3(seaweed: SeaweedS3) -> None:
    make_bucket(seaweed, "concurrency")
    run_two_writers(seaweed.env("concurrency"))
