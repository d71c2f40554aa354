"""bronze.ind_prices → silver.price_quote: raw-material prices in 元/吨."""

from functools import cache

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Flag, Rule, located
from transforms.silver.refs import Refs
from transforms.silver.text import clean_text, number_text, to_date_text


def _bronze() -> Contract:
    return get_contract("bronze", "ind_prices")


PER_TON = {"元/吨": 1, "元/千克": 1000, "元/公斤": 1000}  # factor to 元/吨


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    df = df.withColumns(
        {
            "s_material": clean_text(F.col("material")),
            "s_unit": clean_text(F.col("unit_of_measure")),
            "s_price_t": number_text(F.col("price")),
            "s_mom_t": number_text(F.col("mom_pct")),
            "s_yoy_t": number_text(F.col("yoy_pct")),
            "s_quote_date": to_date_text(F.col("quote_date")),
        }
    )
    factor = F.lit(None).cast("int")
    for unit, times in PER_TON.items():
        factor = F.when(F.col("s_unit") == unit, F.lit(times)).otherwise(factor)
    price = F.col("s_price_t").try_cast("decimal(18,4)")
    return df.withColumns(
        {
            "s_price": price,
            "s_factor": factor,
            "s_price_per_ton": (price * factor).cast("decimal(18,2)"),
            "s_mom": F.col("s_mom_t").try_cast("double"),
            "s_yoy": F.col("s_yoy_t").try_cast("double"),
        }
    )


def rules(refs: Refs) -> list[Rule]:
    bronze = _bronze()
    return [
        R.required(
            bronze, [("material", "s_material"), ("price", "s_price_t"), ("quote_date", "quote_date")]
        ),
        R.numeric(
            bronze,
            [
                ("price", "s_price_t", "s_price"),
                ("mom_pct", "s_mom_t", "s_mom"),
                ("yoy_pct", "s_yoy_t", "s_yoy"),
            ],
        ),
        R.dates(bronze, [("quote_date", "s_quote_date")]),
        Rule(
            "price_unit",
            F.col("s_factor").isNull(),
            located(bronze, "unit_of_measure", "is not a price unit this table converts (元/吨, 元/千克)"),
        ),
        Rule("range", F.col("s_price") <= 0, located(bronze, "price", "is not positive")),
    ]


def flags(refs: Refs) -> list[Flag]:
    return [Flag("price_unit", F.col("s_factor") != 1)]  # converted to 元/吨


def columns() -> list:
    return [
        F.col("s_material").alias("material"),
        clean_text(F.col("spec")).alias("spec"),
        clean_text(F.col("price_region")).alias("price_region"),
        F.col("s_price_per_ton").alias("price_per_ton"),
        F.col("s_unit").alias("unit_reported"),
        F.col("s_mom").alias("mom_pct"),
        F.col("s_yoy").alias("yoy_pct"),
        F.col("s_quote_date").alias("quote_date"),
    ]


@cache
def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "price_quote"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        flags=flags,
        columns=columns,
        dedupe_keys=["s_material", "spec", "price_region", "period_date"],
    )
