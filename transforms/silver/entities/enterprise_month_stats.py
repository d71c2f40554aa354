"""bronze.gov_stats_monthly → silver.enterprise_month_stats: 规上工业企业月报, per enterprise-month."""

from functools import cache

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Flag, Rule, located
from transforms.silver.refs import Refs, with_industry, with_region
from transforms.silver.resolution import EnterpriseRef, resolved_columns
from transforms.silver.text import clean_code, clean_text, number_text, period_from_text


def _bronze() -> Contract:
    return get_contract("bronze", "gov_stats_monthly")


AMOUNTS = ["gross_output", "revenue", "total_profit", "energy_consumption"]
NUMBERS = [*AMOUNTS, "avg_employees"]
# 工业总产值 above this multiple of 营业收入 was reported in 元 in a 万元 column.
UNIT_MISMATCH_RATIO = 50


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    df = df.withColumns(
        {
            "s_uscc": clean_code(F.col("uscc")),
            "s_name": clean_text(F.col("enterprise_name")),
            "s_region": clean_code(F.col("region_code")),
            "s_industry_code": F.regexp_replace(clean_code(F.col("industry_code")), "^[A-T]", ""),
            "s_period": period_from_text(F.col("report_period")),
            **{f"s_{c}_t": number_text(F.col(c)) for c in NUMBERS},
        }
    )
    df = df.withColumns(
        {
            **{f"s_{c}": F.col(f"s_{c}_t").try_cast("decimal(18,2)") for c in AMOUNTS},
            "s_avg_employees": F.col("s_avg_employees_t").try_cast("int"),
        }
    )
    return with_industry(with_region(df, "s_region", F.col("period_date"), refs), "s_industry_code", refs)


def rules(refs: Refs) -> list[Rule]:
    bronze = _bronze()
    region, _ = R.region_rules(bronze, "region_code")
    period_problem = F.when(F.col("s_period").isNull(), F.lit("cannot be read as a month")).otherwise(
        F.concat(F.lit("differs from the delivery's period "), F.col("period"))
    )
    return [
        R.required(
            bronze,
            [
                ("uscc", "s_uscc"),
                ("enterprise_name", "s_name"),
                ("region_code", "s_region"),
                ("industry_code", "s_industry_code"),
                ("report_period", "s_period"),
            ],
        ),
        Rule(
            "report_period",
            F.col("s_period") != F.col("period_date"),
            located(bronze, "report_period", period_problem),
        ),
        R.numeric(bronze, [(c, f"s_{c}_t", f"s_{c}") for c in NUMBERS]),
        region,
        R.industry_rule(bronze, "industry_code"),
        R.negative(
            bronze,
            [(c, f"s_{c}") for c in ["gross_output", "revenue", "avg_employees", "energy_consumption"]],
        ),
        Rule(
            "unit_mismatch",
            (F.col("s_revenue") > 0) & (F.col("s_gross_output") > F.col("s_revenue") * UNIT_MISMATCH_RATIO),
            located(
                bronze,
                "gross_output",
                F.concat(
                    F.lit("is over 50 times 营业收入 "),
                    F.col("revenue"),
                    F.lit(": reported in 元, not 万元?"),
                ),
            ),
        ),
        Rule(
            "profit_exceeds_revenue",
            F.col("s_total_profit") > F.col("s_revenue"),
            located(bronze, "total_profit", F.concat(F.lit("exceeds 营业收入 "), F.col("revenue"))),
        ),
    ]


def flags(refs: Refs) -> list[Flag]:
    bronze = _bronze()
    return [R.region_rules(bronze, "region_code")[1], R.uscc_authority("s_uscc")]


def columns() -> list:
    return [
        *resolved_columns("s_uscc"),
        F.col("s_name").alias("enterprise_name"),
        F.col("_region_code").alias("region_code"),
        F.col("_region_city").alias("city_code"),
        F.col("s_industry_code").alias("industry_code"),
        *[F.col(f"s_{c}").alias(c) for c in NUMBERS],
    ]


@cache
def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "enterprise_month_stats"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        flags=flags,
        columns=columns,
        refs=[
            EnterpriseRef(
                "enterprise",
                "s_uscc",
                name_col="s_name",
                city_col="_region_city",
                bronze_name="enterprise_name",
            )
        ],
        dedupe_keys=["_id_enterprise", "period_date"],
    )
