"""bronze.ent_products → silver.product: product master data, per product and delivery month."""

from functools import cache

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Rule
from transforms.silver.refs import Refs, with_industry
from transforms.silver.resolution import EnterpriseRef, resolved_columns
from transforms.silver.text import clean_code, clean_text, number_text, to_date_text


def _bronze() -> Contract:
    return get_contract("bronze", "ent_products")


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    df = df.withColumns(
        {
            "s_product_id": clean_code(F.col("product_id")),
            "s_uscc": clean_code(F.col("uscc")),
            "s_name": clean_text(F.col("enterprise_name")),
            "s_product_name": clean_text(F.col("product_name")),
            "s_industry_code": F.regexp_replace(clean_code(F.col("industry_code")), "^[A-T]", ""),
            "s_capacity_t": number_text(F.col("annual_capacity")),
            "s_launched": to_date_text(F.col("launched_on")),
        }
    ).withColumn("s_capacity", F.col("s_capacity_t").try_cast("decimal(18,2)"))
    return with_industry(df, "s_industry_code", refs)


def rules(refs: Refs) -> list[Rule]:
    bronze = _bronze()
    return [
        R.required(
            bronze, [("product_id", "s_product_id"), ("uscc", "s_uscc"), ("product_name", "s_product_name")]
        ),
        R.industry_rule(bronze, "industry_code"),
        R.numeric(bronze, [("annual_capacity", "s_capacity_t", "s_capacity")]),
        R.dates(bronze, [("launched_on", "s_launched")]),
        R.negative(bronze, [("annual_capacity", "s_capacity")]),
    ]


def columns() -> list:
    return [
        F.col("s_product_id").alias("product_id"),
        *resolved_columns("s_uscc"),
        F.col("s_name").alias("enterprise_name"),
        F.col("s_product_name").alias("product_name"),
        *[clean_text(F.col(c)).alias(c) for c in ("product_category", "chain_link", "unit_of_measure")],
        F.col("s_industry_code").alias("industry_code"),
        F.col("s_capacity").alias("annual_capacity"),
        F.col("s_launched").alias("launched_on"),
    ]


@cache
def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "product"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        columns=columns,
        refs=[EnterpriseRef("enterprise", "s_uscc", name_col="s_name", bronze_name="enterprise_name")],
        dedupe_keys=["s_product_id", "period_date"],
    )
