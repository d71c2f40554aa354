"""silver.device_state_interval: consecutive readings in one state merged into intervals.

Per device and day, ordered by device time: a new interval starts when the status changes; it
ends at the next reading of the device (or one minute after its last reading of the day). A day
is rebuilt when its readings in silver.telemetry_reading no longer add up to its intervals.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from catalog.tables import LakeTables
from ibrain.delta import in_predicate


def intervals_contract() -> Contract:
    return get_contract("silver", "device_state_interval")


def stale_days(tables: LakeTables) -> list[dt.date]:
    readings = tables.read("silver", "telemetry_reading").groupBy("period").agg(F.count("*").alias("n"))
    intervals = (
        tables.read("silver", "device_state_interval").groupBy("period").agg(F.sum("readings").alias("n"))
    )
    changed = readings.exceptAll(intervals).unionByName(intervals.exceptAll(readings))
    return sorted({r.period for r in changed.select("period").distinct().collect()})


def intervals(readings: DataFrame) -> DataFrame:
    device_day = Window.partitionBy("device_id", "period").orderBy("reading_ts")
    df = readings.select("device_id", "enterprise_id", "status", "reading_ts", "period").withColumns(
        {
            "_next_ts": F.lead("reading_ts").over(device_day),
            "_changed": F.coalesce(F.lag("status").over(device_day) != F.col("status"), F.lit(True)).cast(
                "int"
            ),
        }
    )
    df = df.withColumn(
        "_interval", F.sum("_changed").over(device_day.rowsBetween(Window.unboundedPreceding, 0))
    )
    grouped = df.groupBy("device_id", "period", "_interval").agg(
        F.first("enterprise_id").alias("enterprise_id"),
        F.first("status").alias("status"),
        F.min("reading_ts").alias("start_ts"),
        F.max_by(
            F.coalesce("_next_ts", F.col("reading_ts") + F.expr("INTERVAL 1 MINUTE")), "reading_ts"
        ).alias("end_ts"),
        F.count("*").alias("readings"),
    )
    minutes = (F.unix_timestamp("end_ts") - F.unix_timestamp("start_ts")) / 60.0
    return grouped.withColumn("duration_minutes", minutes.cast("double")).select(
        *intervals_contract().column_names
    )


def build(tables: LakeTables, days: list[dt.date] | None = None) -> list[dt.date]:
    days = stale_days(tables) if days is None else days
    contract = intervals_contract()
    tables.ensure(contract)
    if days:
        scope = in_predicate("period", days)
        readings = tables.read("silver", "telemetry_reading").filter(scope)
        tables.replace_where(contract, intervals(readings), scope)
    return days
