"""bronze.ind_supply_chain → silver.supply_edge: who buys which material from whom."""

from functools import cache

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Rule
from transforms.silver.refs import Refs
from transforms.silver.resolution import EnterpriseRef
from transforms.silver.text import clean_code, clean_text, number_text


def _bronze() -> Contract:
    return get_contract("bronze", "ind_supply_chain")


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    return df.withColumns(
        {
            "s_buyer_uscc": clean_code(F.col("buyer_uscc")),
            "s_buyer_name": clean_text(F.col("buyer_name")),
            "s_supplier_uscc": clean_code(F.col("supplier_uscc")),
            "s_supplier_name": clean_text(F.col("supplier_name")),
            "s_material": clean_text(F.col("material")),
            "s_volume_t": number_text(F.col("annual_volume")),
        }
    ).withColumn("s_volume", F.col("s_volume_t").try_cast("decimal(18,2)"))


def rules(refs: Refs) -> list[Rule]:
    bronze = _bronze()
    return [
        R.required(
            bronze,
            [
                ("buyer_uscc", "s_buyer_uscc"),
                ("supplier_uscc", "s_supplier_uscc"),
                ("material", "s_material"),
            ],
        ),
        R.numeric(bronze, [("annual_volume", "s_volume_t", "s_volume")]),
        R.negative(bronze, [("annual_volume", "s_volume")]),
    ]


def columns() -> list:
    resolution = F.when(
        (F.col("_res_buyer") == "uscc") & (F.col("_res_supplier") == "uscc"), F.lit("uscc")
    ).otherwise(
        F.concat_ws(
            ";",
            F.concat(F.lit("buyer:"), F.col("_res_buyer")),
            F.concat(F.lit("supplier:"), F.col("_res_supplier")),
        )
    )
    return [
        F.col("_id_buyer").alias("buyer_enterprise_id"),
        F.col("_uscc_buyer").alias("buyer_uscc"),
        F.col("s_buyer_name").alias("buyer_name"),
        F.col("_id_supplier").alias("supplier_enterprise_id"),
        F.col("_uscc_supplier").alias("supplier_uscc"),
        F.col("s_supplier_name").alias("supplier_name"),
        resolution.alias("resolution"),
        F.col("s_material").alias("material"),
        F.col("s_volume").alias("annual_volume"),
        clean_text(F.col("volume_unit")).alias("volume_unit"),
        clean_text(F.col("survey_year")).try_cast("int").alias("survey_year"),
    ]


@cache
def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "supply_edge"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        columns=columns,
        refs=[
            EnterpriseRef(
                "buyer",
                "s_buyer_uscc",
                name_col="s_buyer_name",
                bronze_uscc="buyer_uscc",
                bronze_name="buyer_name",
            ),
            EnterpriseRef(
                "supplier",
                "s_supplier_uscc",
                name_col="s_supplier_name",
                bronze_uscc="supplier_uscc",
                bronze_name="supplier_name",
            ),
        ],
        dedupe_keys=["_id_buyer", "_id_supplier", "s_material", "period_date"],
    )
