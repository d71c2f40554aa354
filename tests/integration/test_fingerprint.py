"""The lake fingerprint (ibrain/fingerprint.py, ``ibrain lake fingerprint``) on tiny lakes written
with the engine: order and volatile columns do not matter, a changed value does."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from ibrain import delta
from ibrain.fingerprint import differences, lake_fingerprint
from ibrain.lake import Lake
from ibrain.settings import Settings
from ibrain.spark import spark_session
from tests.conftest import lake_env
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration

T1 = "id int, name string, amount double, _ingested_at timestamp"
T2 = "region string, period date"
AT = dt.datetime(2024, 5, 1, 8, 0)
ROWS_T1 = [(1, "鞍山", 10.5, AT), (2, "大连", None, AT), (3, "沈阳", 7.25, AT)]
ROWS_T2 = [("210100", dt.date(2024, 1, 1)), ("210200", dt.date(2024, 2, 1))]


def write_lake(
    base: Path, spark: SparkSession, t1: list[tuple], t2: list[tuple], split: bool = False
) -> tuple[Lake, dict[str, str]]:
    """Two small tables; ``split`` writes bronze.t1 in two appends (other files, other order)."""
    env = lake_env(base)
    lake = Lake(Settings.from_env(env))
    ref1, ref2 = lake.ref("bronze", "t1"), lake.ref("gold", "t2")
    parts = [t1[:1], t1[1:]] if split else [t1]
    for part in parts:
        delta.append(spark, spark.createDataFrame(part, T1), ref1)
    delta.append(spark, spark.createDataFrame(t2, T2), ref2)
    return lake, env


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Lake, dict[str, str]]]:
    base = tmp_path_factory.mktemp("fingerprint")
    spark = spark_session(Settings.from_env(lake_env(base / "a")), attach=False)
    later = AT + dt.timedelta(days=3)
    return {
        "a": write_lake(base / "a", spark, ROWS_T1, ROWS_T2),
        # the same rows in another order and other files, loaded at another time
        "same": write_lake(
            base / "same",
            spark,
            [(i, n, v, later) for i, n, v, _ in reversed(ROWS_T1)],
            list(reversed(ROWS_T2)),
            split=True,
        ),
        # one value changed: 大连's amount is no longer null
        "changed": write_lake(
            base / "changed", spark, [ROWS_T1[0], (2, "大连", 0.0, AT), ROWS_T1[2]], ROWS_T2
        ),
    }


def test_order_and_volatile_columns_do_not_change_the_fingerprint_a_value_does(lakes) -> None:
    spark = spark_session(lakes["a"][0].settings, attach=False)
    a, same, changed = (lake_fingerprint(spark, lakes[k][0]) for k in ("a", "same", "changed"))
    assert list(a) == ["bronze.t1", "gold.t2"]
    assert (a["bronze.t1"].rows, a["gold.t2"].rows) == (3, 2)
    assert "_ingested_at" not in a["bronze.t1"].columns
    assert a == same
    assert differences(a, same) == []
    assert changed["gold.t2"] == a["gold.t2"]
    assert changed["bronze.t1"].rows == 3 and changed["bronze.t1"].hash != a["bronze.t1"].hash
    assert differences(a, changed) == ["bronze.t1: same 3 rows but different content"]


def test_cli_writes_prints_and_compares(lakes, tmp_path: Path) -> None:
    out = tmp_path / "fingerprint.json"
    written = run_cli(["lake", "fingerprint", "--out", str(out)], lakes["a"][1]).stdout
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(saved) == ["bronze.t1", "gold.t2"]
    assert saved["bronze.t1"]["rows"] == 3 and saved["gold.t2"]["rows"] == 2
    table = [line.split() for line in written.splitlines() if line.startswith(("bronze.t1 ", "gold.t2 "))]
    assert table == [
        ["bronze.t1", "3", saved["bronze.t1"]["hash"]],
        ["gold.t2", "2", saved["gold.t2"]["hash"]],
    ]

    same = run_cli(["lake", "fingerprint", "--compare", str(out)], lakes["same"][1])
    assert f"same data as {out} (2 tables)" in same.stdout

    changed = run_cli(["lake", "fingerprint", "--compare", str(out)], lakes["changed"][1], check=False)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    listed = [line for line in changed.stdout.splitlines() if line.startswith("  ")]
    assert listed == ["  bronze.t1: same 3 rows but different content"]
    assert f"1 of 2 tables differ from {out}" in changed.stderr
