"""bronze.gov_subsidy → silver.subsidy_award: 惠企政策奖补, one row per award."""

from functools import cache

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Rule, located
from transforms.silver.refs import Refs
from transforms.silver.resolution import EnterpriseRef, resolved_columns
from transforms.silver.text import clean_code, clean_text, number_text, to_date_text


def _bronze() -> Contract:
    return get_contract("bronze", "gov_subsidy")


# A single award above 5亿元 (50,000 万元) was reported in 元, not 万元.
MAX_AWARD_10K = 50_000


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    return df.withColumns(
        {
            "s_award_id": clean_code(F.col("award_id")),
            "s_uscc": clean_code(F.col("uscc")),
            "s_name": clean_text(F.col("enterprise_name")),
            "s_amount_t": number_text(F.col("amount")),
            "s_award_date": to_date_text(F.col("award_date")),
        }
    ).withColumn("s_amount", F.col("s_amount_t").try_cast("decimal(18,2)"))


def rules(refs: Refs) -> list[Rule]:
    bronze = _bronze()
    outside = F.date_trunc("month", F.col("s_award_date")).cast("date") != F.col("period_date")
    return [
        R.required(
            bronze,
            [
                ("award_id", "s_award_id"),
                ("uscc", "s_uscc"),
                ("amount", "s_amount_t"),
                ("award_date", "award_date"),
            ],
        ),
        R.numeric(bronze, [("amount", "s_amount_t", "s_amount")]),
        R.dates(bronze, [("award_date", "s_award_date")]),
        Rule(
            "date_format",
            outside,
            located(
                bronze, "award_date", F.concat(F.lit("is outside the delivery's month "), F.col("period"))
            ),
        ),
        R.negative(bronze, [("amount", "s_amount")]),
        Rule("range", F.col("s_amount") == 0, located(bronze, "amount", "is zero")),
        Rule(
            "unit_mismatch",
            F.col("s_amount") > MAX_AWARD_10K,
            located(bronze, "amount", "exceeds 5亿元 for one award: reported in 元, not 万元?"),
        ),
    ]


def columns() -> list:
    return [
        F.col("s_award_id").alias("award_id"),
        *resolved_columns("s_uscc"),
        F.col("s_name").alias("enterprise_name"),
        *[clean_text(F.col(c)).alias(c) for c in ("policy_name", "policy_code", "fund_type", "department")],
        F.col("s_amount").alias("amount"),
        F.col("s_award_date").alias("award_date"),
    ]


@cache
def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "subsidy_award"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        columns=columns,
        refs=[EnterpriseRef("enterprise", "s_uscc", name_col="s_name", bronze_name="enterprise_name")],
        dedupe_keys=["s_award_id"],
    )
