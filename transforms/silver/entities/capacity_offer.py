"""bronze.ent_orders (records of type capacity) → silver.capacity_offer: idle machine hours offered.

The platform identifies enterprises by USCC only, so an invalid USCC is rejected (there is no
name to resolve it by). Every other record of the bronze table is an order
(silver.purchase_order, purchase_order.py).
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Rule, located
from transforms.silver.refs import Refs
from transforms.silver.resolution import EnterpriseRef
from transforms.silver.text import clean_code, clean_text, number_text, to_date_text


def _bronze() -> Contract:
    return get_contract("bronze", "ent_orders")


NUMBERS = ["idle_hours", "price_per_hour"]


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    df = df.withColumns(
        {
            "s_id": clean_code(F.col("record_id")),
            "s_uscc": clean_code(F.col("uscc")),
            "s_from": to_date_text(F.col("available_from")),
            "s_to": to_date_text(F.col("available_to")),
        }
    )
    df = df.withColumns({f"s_{c}_t": number_text(F.col(c)) for c in NUMBERS})
    return df.withColumns({f"s_{c}": F.col(f"s_{c}_t").try_cast("decimal(18,2)") for c in NUMBERS})


def rules(refs: Refs) -> list[Rule]:
    return [
        R.required(_bronze(), [("record_id", "s_id"), ("uscc", "s_uscc")]),
        R.uscc_rule(_bronze(), "uscc", "s_uscc"),
        R.numeric(
            _bronze(),
            [
                ("idle_hours", "s_idle_hours_t", "s_idle_hours"),
                ("price_per_hour", "s_price_per_hour_t", "s_price_per_hour"),
            ],
        ),
        R.dates(_bronze(), [("available_from", "s_from"), ("available_to", "s_to")]),
        R.negative(_bronze(), [("idle_hours", "s_idle_hours"), ("price_per_hour", "s_price_per_hour")]),
        Rule(
            "range",
            F.col("s_to") < F.col("s_from"),
            located(_bronze(), "available_to", "is before available_from"),
        ),
    ]


def columns() -> list:
    return [
        F.col("s_id").alias("offer_id"),
        F.col("_id_enterprise").alias("enterprise_id"),
        F.col("_uscc_enterprise").alias("uscc"),
        clean_text(F.col("equipment_type")).alias("equipment_type"),
        F.col("s_idle_hours").alias("idle_hours"),
        F.col("s_from").alias("available_from"),
        F.col("s_to").alias("available_to"),
        F.col("s_price_per_hour").alias("price_per_hour"),
    ]


def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "capacity_offer"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        columns=columns,
        refs=[EnterpriseRef("enterprise", "s_uscc")],
        dedupe_keys=["s_id"],
        bronze_filter="record_type = 'capacity'",
    )
