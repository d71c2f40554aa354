"""bronze.ent_orders (records of type order) → silver.purchase_order.

The platform identifies enterprises by USCC only, so an invalid USCC is rejected (there is no
name to resolve it by). The same bronze table carries capacity records
(silver.capacity_offer, capacity_offer.py); records of neither type are rejected here, with the
orders.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from ibrain.uscc import spark_is_valid_sql
from transforms.silver import rules as R
from transforms.silver.framework import Entity, Rule, located
from transforms.silver.refs import Refs
from transforms.silver.resolution import EnterpriseRef
from transforms.silver.text import clean_code, clean_text, number_text, to_date_text


def _bronze() -> Contract:
    return get_contract("bronze", "ent_orders")


NUMBERS = ["quantity", "amount"]


def prepare(df: DataFrame, refs: Refs) -> DataFrame:
    df = df.withColumns(
        {
            "s_id": clean_code(F.col("record_id")),
            "s_uscc": clean_code(F.col("uscc")),
            "s_buyer_uscc": clean_code(F.col("buyer_uscc")),
            "s_order_date": to_date_text(F.col("order_date")),
            "s_due_date": to_date_text(F.col("due_date")),
        }
    )
    df = df.withColumns({f"s_{c}_t": number_text(F.col(c)) for c in NUMBERS})
    return df.withColumns({f"s_{c}": F.col(f"s_{c}_t").try_cast("decimal(18,2)") for c in NUMBERS})


def rules(refs: Refs) -> list[Rule]:
    buyer_bad = F.col("s_buyer_uscc").isNotNull() & ~F.expr(spark_is_valid_sql("s_buyer_uscc"))
    return [
        Rule(
            "record_type",
            F.coalesce(F.col("record_type") != "order", F.lit(True)),
            located(_bronze(), "record_type", "is neither order nor capacity"),
        ),
        R.required(_bronze(), [("record_id", "s_id"), ("uscc", "s_uscc")]),
        R.uscc_rule(_bronze(), "uscc", "s_uscc"),
        Rule("uscc_check_digit", buyer_bad, located(_bronze(), "buyer_uscc", R.uscc_problem("s_buyer_uscc"))),
        R.numeric(
            _bronze(), [("quantity", "s_quantity_t", "s_quantity"), ("amount", "s_amount_t", "s_amount")]
        ),
        R.dates(_bronze(), [("order_date", "s_order_date"), ("due_date", "s_due_date")]),
        R.negative(_bronze(), [("quantity", "s_quantity"), ("amount", "s_amount")]),
        Rule(
            "range",
            F.col("s_due_date") < F.col("s_order_date"),
            located(_bronze(), "due_date", "is before the order date"),
        ),
    ]


def columns() -> list:
    return [
        F.col("s_id").alias("order_id"),
        F.col("_id_supplier").alias("supplier_enterprise_id"),
        F.col("_uscc_supplier").alias("supplier_uscc"),
        F.col("_id_buyer").alias("buyer_enterprise_id"),
        F.col("_uscc_buyer").alias("buyer_uscc"),
        clean_text(F.col("product_category")).alias("product_category"),
        F.col("s_quantity").alias("quantity"),
        F.col("s_amount").alias("amount"),
        F.col("s_order_date").alias("order_date"),
        F.col("s_due_date").alias("due_date"),
        clean_text(F.col("order_status")).alias("order_status"),
    ]


def entity() -> Entity:
    """The entity, built on first use (the contracts are read then, not at import)."""
    return Entity(
        silver=get_contract("silver", "purchase_order"),
        bronze=_bronze(),
        prepare=prepare,
        rules=rules,
        columns=columns,
        refs=[EnterpriseRef("supplier", "s_uscc"), EnterpriseRef("buyer", "s_buyer_uscc")],
        dedupe_keys=["s_id"],
        bronze_filter="record_type IS NULL OR record_type <> 'capacity'",
    )
