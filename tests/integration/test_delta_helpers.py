"""The Delta helpers on the real engine (embedded Sail) and real Delta tables."""

import datetime as dt
import os

import pytest
from pyspark.sql import SparkSession

from catalog.tables import LakeTables
from ibrain import delta
from ibrain.lake import Lake
from ibrain.spark import _Attached, attach_lake

pytestmark = pytest.mark.integration
SCHEMA = "id int, v string, period date"
JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)


def rows(spark: SparkSession, lake: Lake, table: str) -> list[tuple]:
    return sorted(
        tuple(r) for r in delta.read(spark, lake.ref("gold", table)).select("id", "v", "period").collect()
    )


def test_replace_where_replaces_only_its_partition(tmp_lake: LakeTables) -> None:
    spark, lake = tmp_lake.spark, tmp_lake.lake
    ref = lake.ref("gold", "t")
    delta.append(
        spark,
        spark.createDataFrame([(1, "a", JAN), (2, "b", FEB), (3, "c", FEB)], SCHEMA),
        ref,
        ["period"],
    )
    delta.replace_where(
        spark,
        lake,
        spark.createDataFrame([(9, "z", FEB)], SCHEMA),
        ref,
        delta.in_predicate("period", [FEB]),
        ["period"],
    )
    assert rows(spark, lake, "t") == [(1, "a", JAN), (9, "z", FEB)]
    # an empty frame deletes the matching rows
    delta.replace_where(
        spark, lake, spark.createDataFrame([], SCHEMA), ref, delta.in_predicate("period", [JAN]), ["period"]
    )
    assert rows(spark, lake, "t") == [(9, "z", FEB)]


def test_replace_where_refuses_rows_outside_the_predicate(tmp_lake: LakeTables) -> None:
    spark, lake = tmp_lake.spark, tmp_lake.lake
    ref = lake.ref("gold", "t")
    delta.append(spark, spark.createDataFrame([(1, "a", JAN)], SCHEMA), ref, ["period"])
    with pytest.raises(delta.DeltaWriteError, match="do not match the predicate"):
        delta.replace_where(
            spark,
            lake,
            spark.createDataFrame([(2, "b", FEB)], SCHEMA),
            ref,
            delta.in_predicate("period", [JAN]),
            ["period"],
        )
    assert rows(spark, lake, "t") == [(1, "a", JAN)]


def test_merge_replaces_a_period_and_leaves_others(tmp_lake: LakeTables) -> None:
    spark, lake = tmp_lake.spark, tmp_lake.lake
    ref = lake.ref("gold", "m")
    delta.append(
        spark,
        spark.createDataFrame([(1, "a", JAN), (2, "b", FEB), (3, "c", FEB), (4, "d", MAR)], SCHEMA),
        ref,
        ["period"],
    )
    # February re-delivered: row 2 changed, row 3 vanished, row 5 new
    feb = spark.createDataFrame([(2, "B", FEB), (5, "e", FEB)], SCHEMA)
    delta.merge(spark, lake, feb, ref, ["id", "period"], replace_column="period", replace_values=[FEB])
    assert rows(spark, lake, "m") == [(1, "a", JAN), (2, "B", FEB), (4, "d", MAR), (5, "e", FEB)]


def test_merge_without_changes_commits_nothing(tmp_lake: LakeTables) -> None:
    spark, lake = tmp_lake.spark, tmp_lake.lake
    ref = lake.ref("gold", "m")
    df = spark.createDataFrame([(1, "a", JAN), (2, "b", FEB)], SCHEMA)
    delta.merge(spark, lake, df, ref, ["id"])  # creates the table
    version = delta.version(lake, ref)
    delta.merge(spark, lake, df, ref, ["id"])
    assert delta.version(lake, ref) == version


def test_partition_columns_are_written_by_name(tmp_lake: LakeTables) -> None:
    """docs/architecture.md, the engine: partition columns are stored last; writes must go by name."""
    spark, lake = tmp_lake.spark, tmp_lake.lake
    ref = lake.ref("gold", "p")
    delta.append(spark, spark.createDataFrame([(1, "a", JAN)], SCHEMA), ref, ["period"])
    delta.merge(spark, lake, spark.createDataFrame([(2, "b", FEB)], SCHEMA), ref, ["id"])
    assert rows(spark, lake, "p") == [(1, "a", JAN), (2, "b", FEB)]


def test_new_session_is_attached_to_the_lake(tmp_lake: LakeTables) -> None:
    spark, lake = tmp_lake.spark, tmp_lake.lake
    delta.append(spark, spark.createDataFrame([(1, "a", JAN)], SCHEMA), lake.ref("gold", "x"))
    delta.append(spark, spark.createDataFrame([(2, "b", FEB)], SCHEMA), lake.ref("silver", "y"))
    fresh = SparkSession.builder.remote(os.environ["SPARK_REMOTE"]).create()
    try:
        with pytest.raises(Exception, match=r"(?i)not found|does not exist|cannot resolve"):
            fresh.table("gold.x").collect()  # the catalog is per session
        attach_lake(_Attached(remote="", lake_root=lake.root, session=fresh), lake)
        assert fresh.table("gold.x").count() == 1
        assert fresh.table("silver.y").count() == 1
    finally:
        fresh.stop()


def test_history_time_travel_and_maintenance(tmp_lake: LakeTables) -> None:
    spark, lake = tmp_lake.spark, tmp_lake.lake
    ref = lake.ref("gold", "h")
    for i in range(5):
        delta.append(spark, spark.createDataFrame([(i, "v", JAN)], SCHEMA), ref)
    assert [h["version"] for h in delta.history(lake, ref)] == [4, 3, 2, 1, 0]
    old = spark.read.format("delta").option("versionAsOf", 1).load(ref.uri)
    assert old.count() == 2
    outcome = delta.maintain(lake, ref)
    assert outcome["files_removed"] == 5 and outcome["files_added"] == 1
    assert delta.read(spark, ref).count() == 5
    with pytest.raises(ValueError, match="retention"):
        delta.maintain(lake, ref, retention_hours=1)
