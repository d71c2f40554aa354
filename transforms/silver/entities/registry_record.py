"""bronze.gov_registry → silver.registry_record: every registration version, standardised.

The registry is the authority for identity, so an invalid USCC here is rejected (never resolved).
"""

from functools import cache

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Flag, Rule, located
from transforms.silver.refs import Refs, with_industry, with_region
from transforms.silver.resolution import EnterpriseRef
from transforms.silver.text import canonical_name, clean_code, clean_text, to_date_text, to_decimal


def _bronze() -> Contract:
    return get_contract("bronze", "gov_registry")


OFFSET = r"([+-]\d{2}:\d{2}|Z)$"


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    df = df.withColumns(
        {
            "s_uscc": clean_code(F.col("uscc")),
            "s_name": clean_text(F.col("enterprise_name")),
            "s_region": clean_code(F.col("region_code")),
            "s_industry_code": F.regexp_replace(clean_code(F.col("industry_code")), "^[A-T]", ""),
            "s_updated_text": clean_text(F.col("updated_at")),
            "s_capital": to_decimal(F.col("registered_capital")),
            "s_established": to_date_text(F.col("established_on")),
        }
    )
    df = df.withColumns(
        {
            "s_tz": F.regexp_extract("s_updated_text", OFFSET, 1),
            "s_updated_at": F.when(
                F.col("s_updated_text").rlike(OFFSET), F.try_to_timestamp("s_updated_text")
            ),
        }
    )
    on = F.coalesce(F.to_date(F.col("s_updated_at")), F.col("period_date"))
    return with_industry(with_region(df, "s_region", on, refs), "s_industry_code", refs)


def rules(refs: Refs) -> list[Rule]:
    bronze = _bronze()
    return [
        R.required(
            bronze,
            [
                ("uscc", "s_uscc"),
                ("enterprise_name", "s_name"),
                ("region_code", "s_region"),
                ("updated_at", "s_updated_text"),
            ],
        ),
        Rule(
            "timestamp_format",
            F.col("s_updated_at").isNull(),
            located(bronze, "updated_at", "is not an ISO 8601 time with a UTC offset"),
        ),
        R.uscc_rule(bronze, "uscc", "s_uscc"),
        R.region_rules(bronze, "region_code")[0],
        R.industry_rule(bronze, "industry_code"),
    ]


def flags(refs: Refs) -> list[Flag]:
    bronze = _bronze()
    return [R.region_rules(bronze, "region_code")[1], R.uscc_authority("s_uscc")]


def columns() -> list:
    return [
        F.col("_id_enterprise").alias("enterprise_id"),
        F.col("_uscc_enterprise").alias("uscc"),
        F.col("s_name").alias("enterprise_name"),
        canonical_name(F.col("s_name")).alias("name_canonical"),
        clean_text(F.col("legal_representative")).alias("legal_representative"),
        F.col("s_capital").alias("registered_capital"),
        F.col("s_established").alias("established_on"),
        clean_text(F.col("address")).alias("address"),
        F.col("_region_code").alias("region_code"),
        F.col("_region_city").alias("city_code"),
        F.col("s_industry_code").alias("industry_code"),
        clean_text(F.col("reg_status")).alias("reg_status"),
        clean_text(F.col("enterprise_type")).alias("enterprise_type"),
        F.col("s_updated_at").alias("updated_at"),
        F.col("s_tz").alias("source_tz"),
    ]


@cache
def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "registry_record"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        flags=flags,
        columns=columns,
        refs=[EnterpriseRef("enterprise", "s_uscc")],
        dedupe_keys=["_uscc_enterprise", "s_updated_at"],
        grain="day",
    )
