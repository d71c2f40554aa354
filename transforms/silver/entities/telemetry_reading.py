"""bronze.ent_telemetry → silver.telemetry_reading: readings typed, in UTC, de-duplicated.

A device and device time appears once (the first delivery of it wins). Small clock skew is kept
as reported: the reading is real, only its stamp is a few seconds off.
"""

from functools import cache

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Rule, located
from transforms.silver.refs import Refs
from transforms.silver.resolution import EnterpriseRef
from transforms.silver.text import clean_code, clean_text, number_text


def _bronze() -> Contract:
    return get_contract("bronze", "ent_telemetry")


STATUSES = ("run", "idle", "fault", "offline")
OFFSET = r"([+-]\d{2}:\d{2}|Z)$"


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    load_text = F.coalesce(number_text(F.col("spindle_load")), number_text(F.col("joint_load")))
    df = df.withColumns(
        {
            "s_device": clean_code(F.col("device_id")),
            "s_uscc": clean_code(F.col("uscc")),
            "s_ts_text": clean_text(F.col("reading_ts")),
            "s_status": F.lower(clean_text(F.col("status"))),
            "s_load_t": load_text,
            "s_power_t": number_text(F.col("power_kw")),
            "s_parts_t": number_text(F.col("part_count")),
            "s_kind": F.when(F.col("spindle_load").isNotNull(), F.lit("cnc")).when(
                F.col("joint_load").isNotNull(), F.lit("robot")
            ),
        }
    )
    ts = F.when(F.col("s_ts_text").rlike(OFFSET), F.try_to_timestamp("s_ts_text"))
    return df.withColumns(
        {
            "s_ts": ts,
            "s_tz": F.regexp_extract("s_ts_text", OFFSET, 1),
            "s_load": F.col("s_load_t").try_cast("double"),
            "s_power": F.col("s_power_t").try_cast("double"),
            "s_parts": F.col("s_parts_t").try_cast("bigint"),
        }
    )


def rules(refs: Refs) -> list[Rule]:
    bronze = _bronze()
    return [
        R.required(
            bronze,
            [
                ("device_id", "s_device"),
                ("uscc", "s_uscc"),
                ("reading_ts", "s_ts_text"),
                ("status", "s_status"),
            ],
        ),
        Rule(
            "timestamp_format",
            F.col("s_ts").isNull(),
            located(bronze, "reading_ts", "is not an ISO 8601 time with a UTC offset"),
        ),
        R.uscc_rule(bronze, "uscc", "s_uscc"),
        Rule(
            "status_value",
            ~F.col("s_status").isin(*STATUSES),
            located(bronze, "status", f"is not one of {', '.join(STATUSES)}"),
        ),
        R.numeric(bronze, [("power_kw", "s_power_t", "s_power"), ("part_count", "s_parts_t", "s_parts")]),
        Rule(
            "numeric_format",
            F.col("s_load_t").isNotNull() & F.col("s_load").isNull(),
            located(bronze, "spindle_load", "is not a number"),
        ),
        Rule(
            "range",
            (F.col("s_load") < 0) | (F.col("s_load") > 100),
            F.when(
                F.col("spindle_load").isNotNull(), located(bronze, "spindle_load", "is outside 0–100 %")
            ).otherwise(located(bronze, "joint_load", "is outside 0–100 %")),
        ),
        R.negative(bronze, [("power_kw", "s_power"), ("part_count", "s_parts")]),
    ]


def columns() -> list:
    return [
        F.col("s_device").alias("device_id"),
        F.col("s_kind").alias("device_kind"),
        F.col("_id_enterprise").alias("enterprise_id"),
        F.col("_uscc_enterprise").alias("uscc"),
        F.col("s_ts").alias("reading_ts"),
        F.date_trunc("hour", "s_ts").alias("reading_hour"),
        F.col("s_tz").alias("source_tz"),
        F.col("s_status").alias("status"),
        F.col("s_load").alias("load_pct"),
        F.col("s_power").alias("power_kw"),
        F.col("s_parts").alias("part_count"),
    ]


@cache
def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "telemetry_reading"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        columns=columns,
        refs=[EnterpriseRef("enterprise", "s_uscc")],
        dedupe_keys=["s_device", "s_ts"],
        grain="day",
    )
