"""Two processes writing one Delta table at once lose nothing (local folder and S3).

Appends: every row of both writers is there. MERGEs replacing each writer's own partition:
each partition holds exactly its writer's last round, and a partition neither touches survives.
Commit conflicts are retried (ibrain.delta.with_commit_retry).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.support.cli import clean_env
from tests.support.seaweed import SeaweedS3, make_bucket

ROUNDS = 15
WORKER = Path(__file__).resolve().parent.parent / "support" / "write_worker.py"


def table_rows(env: dict[str, str]) -> tuple[list[tuple[int, int]], int]:
    """(worker, round) of every row and the Delta version, read with delta-rs."""
    from deltalake import DeltaTable

    lake = Lake(Settings.from_env(env))
    table = DeltaTable(lake.table_uri("bronze", "concurrency_probe"), storage_options=lake.storage_options())
    data = table.to_pyarrow_table(columns=["worker", "round"])
    rows = list(zip(data.column("worker").to_pylist(), data.column("round").to_pylist(), strict=True))
    version = table.version()
    del data, table
    return rows, version


def run_two_writers(mode: str, env: dict[str, str]) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), mode, str(w), str(ROUNDS)],
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


def seed_partition(env: dict[str, str]) -> None:
    """A partition (worker 0) that no writer touches."""
    code = (
        "from ibrain import delta; from ibrain.lake import Lake; from ibrain.spark import spark_session;"
        "lake = Lake(); s = spark_session(lake.settings);"
        "delta.append(s, s.createDataFrame([(0, 0, 0)], 'worker int, round int, j int'),"
        " lake.ref('bronze', 'concurrency_probe'), ['worker'])"
    )
    subprocess.run([sys.executable, "-c", code], env=clean_env(env), check=True, capture_output=True)


def check_appends(env: dict[str, str]) -> None:
    run_two_writers("append", env)
    rows, version = table_rows(env)
    assert len(rows) == 2 * ROUNDS * 100
    assert version == 2 * ROUNDS - 1  # every append committed its own version
    assert set(rows) == {(w, r) for w in (1, 2) for r in range(ROUNDS)}


def check_merges(env: dict[str, str]) -> None:
    seed_partition(env)
    run_two_writers("merge", env)
    rows, _ = table_rows(env)
    assert sorted(rows) == sorted([(0, 0)] + [(w, ROUNDS - 1) for w in (1, 2) for _ in range(100)])


@pytest.mark.slow
def test_concurrent_appends_local(tmp_path: Path) -> None:
    check_appends({"IBRAIN_LAKE_ROOT": str(tmp_path / "lake")})


@pytest.mark.slow
def test_concurrent_merges_local(tmp_path: Path) -> None:
    check_merges({"IBRAIN_LAKE_ROOT": str(tmp_path / "lake")})


@pytest.mark.s3
def test_concurrent_appends_s3(seaweed: SeaweedS3) -> None:
    make_bucket(seaweed, "concurrency")
    check_appends(seaweed.env("concurrency", "appends"))


@pytest.mark.s3
def test_concurrent_merges_s3(seaweed: SeaweedS3) -> None:
    make_bucket(seaweed, "concurrency")
    check_merges(seaweed.env("concurrency", "merges"))
