"""Reference data silver rules look things up in: regions with validity, industry classes, the
enterprise master, confirmed matches. Loaded lazily, once per build."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from catalog.tables import LakeTables

FOREVER = "9999-12-31"


@dataclass
class Refs:
    tables: LakeTables

    @classmethod
    def load(cls, tables: LakeTables) -> Refs:
        return cls(tables)

    def _reference(self, table: str) -> DataFrame:
        """A reference table, which must have been loaded: without it every code would look unknown
        and every row would be rejected."""
        from catalog import get_contract

        contract = get_contract("silver", table)
        if not self.tables.exists(contract):
            raise RuntimeError(f"{contract.name} is missing: materialise the reference tables first")
        return self.tables.read(contract.layer, contract.table)

    @cached_property
    def regions(self) -> DataFrame:
        return self._reference("ref_region")

    @cached_property
    def industry_classes(self) -> DataFrame:
        return (
            self._reference("ref_industry")
            .filter(F.col("level") == "class")
            .select(F.col("code").alias("_industry_class"))
        )

    @cached_property
    def master_current(self) -> DataFrame:
        return (
            self.tables.read("silver", "enterprise")
            .filter("is_current")
            .select("enterprise_id", "uscc", "enterprise_name", "name_canonical", "city_code")
        )

    @cached_property
    def confirmed_matches(self) -> DataFrame:
        return self.tables.read("silver", "enterprise_match_review").filter(F.col("status") == "confirmed")


def with_region(df: DataFrame, code: str, on_date: Column, refs: Refs, prefix: str = "_region") -> DataFrame:
    """Adds ``{prefix}_state`` (valid | successor | not_valid_then | unknown | null when no code),
    ``{prefix}_code`` (the code to keep: itself, or its successor) and ``{prefix}_city``.

    Validity is judged on ``on_date`` (the record's own date): an abolished code maps to its
    successor when the change table says so; a code that existed but not then is not valid.
    """
    regions = refs.regions
    df = df.withColumn(f"{prefix}_on", on_date)
    on = F.col(f"{prefix}_on")
    valid = regions.select(
        F.col("code").alias(f"{prefix}_v_code"),
        F.col("valid_from").alias(f"{prefix}_v_from"),
        F.coalesce("valid_to", F.lit(FOREVER).cast("date")).alias(f"{prefix}_v_to"),
        F.col("city_code").alias(f"{prefix}_v_city"),
    )
    df = df.join(
        valid,
        (F.col(code) == F.col(f"{prefix}_v_code"))
        & (on >= F.col(f"{prefix}_v_from"))
        & (on < F.col(f"{prefix}_v_to")),
        "left",
    )
    successor = regions.filter(F.col("successor_code").isNotNull()).select(
        F.col("code").alias(f"{prefix}_s_code"),
        F.col("valid_to").alias(f"{prefix}_s_to"),
        F.col("successor_code").alias(f"{prefix}_s_next"),
    )
    df = df.join(
        successor, (F.col(code) == F.col(f"{prefix}_s_code")) & (on >= F.col(f"{prefix}_s_to")), "left"
    )
    known = regions.select(F.col("code").alias(f"{prefix}_k_code")).distinct()
    df = df.join(known, F.col(code) == F.col(f"{prefix}_k_code"), "left")
    next_city = regions.filter(F.col("valid_to").isNull()).select(
        F.col("code").alias(f"{prefix}_n_code"), F.col("city_code").alias(f"{prefix}_n_city")
    )
    df = df.join(next_city, F.col(f"{prefix}_s_next") == F.col(f"{prefix}_n_code"), "left")
    state = (
        F.when(F.col(code).isNull(), F.lit(None))
        .when(F.col(f"{prefix}_v_code").isNotNull(), F.lit("valid"))
        .when(F.col(f"{prefix}_s_next").isNotNull(), F.lit("successor"))
        .when(F.col(f"{prefix}_k_code").isNotNull(), F.lit("not_valid_then"))
        .otherwise(F.lit("unknown"))
    )
    temporary = [
        f"{prefix}_{name}"
        for name in (
            "on",
            "v_code",
            "v_from",
            "v_to",
            "v_city",
            "s_code",
            "s_to",
            "s_next",
            "k_code",
            "n_code",
            "n_city",
        )
    ]
    return df.withColumns(
        {
            f"{prefix}_state": state,
            f"{prefix}_code": F.when(state == "successor", F.col(f"{prefix}_s_next")).otherwise(F.col(code)),
            f"{prefix}_city": F.coalesce(F.col(f"{prefix}_v_city"), F.col(f"{prefix}_n_city")),
        }
    ).drop(*temporary)


def with_industry(df: DataFrame, code: str, refs: Refs) -> DataFrame:
    """Adds ``_industry_known``: the code is a GB/T 4754-2017 class."""
    joined = df.join(refs.industry_classes, F.col(code) == F.col("_industry_class"), "left")
    return joined.withColumn("_industry_known", F.col("_industry_class").isNotNull()).drop("_industry_class")
