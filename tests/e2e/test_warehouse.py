"""The dbt warehouses on the demo lake: numbers checked by hand, chains, indicators (issue 5)."""

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tests.e2e.conftest import DemoLake

pytestmark = pytest.mark.e2e

MEASURES = ["gross_output", "revenue", "total_profit", "avg_employees", "energy_consumption"]


def economic_operation_from_silver(demo: DemoLake) -> DataFrame:
    """theme.economic_operation_month recomputed from silver with plain PySpark (no dbt, no gold):
    monthly survey rows per city, GB/T 4754 division and pilot chain ('none' outside them)."""
    spark = demo.tables.spark
    stats = spark.table("silver.enterprise_month_stats")
    chains = spark.table("silver.ref_chain_industry").select("industry_code", "chain_code")
    divisions = spark.table("silver.ref_industry").select(
        F.col("code").alias("industry_code"), "division_code"
    )
    rows = (
        stats.join(chains, "industry_code", "left")
        .join(divisions, "industry_code", "left")
        .select(
            "city_code",
            F.coalesce("division_code", F.lit("unknown")).alias("division_code"),
            F.coalesce("chain_code", F.lit("none")).alias("chain_code"),
            "period",
            "enterprise_id",
            *MEASURES,
        )
    )
    keys = ["city_code", "division_code", "chain_code", "period"]
    return rows.groupBy(*keys).agg(
        F.countDistinct("enterprise_id").alias("enterprise_count"),
        *[F.sum(m).alias(m) for m in MEASURES],
    )


def growth(current, previous) -> float | None:
    if previous is None or previous == 0 or current is None:
        return None
    return float(round((current / previous - 1) * 100, 2))


def test_an_economic_operation_row_matches_a_recomputation_from_silver(demo_lake: DemoLake) -> None:
    spark = demo_lake.tables.spark
    theme = spark.table("theme.economic_operation_month")
    # the busiest pilot-chain cell of the last month that has a year-earlier base
    pick = (
        theme.filter(
            "period = date'2025-01-01' and chain_code <> 'none' and gross_output_yoy_pct is not null"
        )
        .orderBy(F.desc("enterprise_count"), "city_code", "division_code", "chain_code")
        .first()
    )
    assert pick is not None, "no pilot-chain cell with a YoY base in 2025-01"
    expected = economic_operation_from_silver(demo_lake).filter(
        (F.col("city_code") == pick.city_code)
        & (F.col("division_code") == pick.division_code)
        & (F.col("chain_code") == pick.chain_code)
    )
    by_month = {r.period.isoformat()[:7]: r for r in expected.collect()}
    now, month_ago, year_ago = by_month["2025-01"], by_month.get("2024-12"), by_month.get("2024-01")
    assert pick.enterprise_count == now.enterprise_count
    for m in MEASURES:
        assert getattr(pick, m) == getattr(now, m), m  # exact: decimals compared as decimals
    assert pick.gross_output_mom_pct == growth(now.gross_output, month_ago and month_ago.gross_output)
    assert pick.gross_output_yoy_pct == growth(now.gross_output, year_ago and year_ago.gross_output)
    assert pick.revenue_yoy_pct == growth(now.revenue, year_ago and year_ago.revenue)
    if now.revenue > 0:
        assert pick.profit_margin_pct == float(round(now.total_profit / now.revenue * 100, 2))


def test_every_city_month_total_of_the_theme_equals_silver(demo_lake: DemoLake) -> None:
    spark = demo_lake.tables.spark
    theme = (
        spark.table("theme.economic_operation_month")
        .groupBy("city_code", "period")
        .agg(F.sum("gross_output").alias("total"))
    )
    silver = (
        spark.table("silver.enterprise_month_stats")
        .groupBy("city_code", "period")
        .agg(F.sum("gross_output").alias("total"))
    )
    diff = theme.exceptAll(silver).count() + silver.exceptAll(theme).count()
    assert theme.count() > 0 and diff == 0


def test_chain_map_covers_every_pilot_chain(demo_lake: DemoLake) -> None:
    spark = demo_lake.tables.spark
    chains = {r.chain_code for r in spark.table("gold.dim_chain").select("chain_code").distinct().collect()}
    assert len(chains) == 5
    nodes = spark.table("topic.chain_map_node").groupBy("chain_code").count().collect()
    assert {r.chain_code for r in nodes if r["count"] > 0} == chains
    links = spark.table("topic.chain_map_node").select("chain_code", "link").distinct().count()
    assert links >= 10  # most chains have nodes in more than one link
    edges = spark.table("gold.fct_supply_edge").join(
        spark.table("gold.dim_chain").select(F.col("product_category").alias("material")).distinct(),
        "material",
    )
    assert edges.count() > 0  # supply relations name the chains' product categories


def test_indicator_library_has_twenty_indicators_with_values(demo_lake: DemoLake) -> None:
    spark = demo_lake.tables.spark
    definitions = spark.table("indicator.indicator_definition")
    codes = {r.indicator_code for r in definitions.select("indicator_code").collect()}
    assert len(codes) >= 20
    latest = spark.table("indicator.indicator_value").filter("period = date'2025-01-01'")
    with_values = {
        r.indicator_code for r in latest.filter("value is not null").select("indicator_code").collect()
    }
    assert codes - with_values <= {c for c in codes if "SUPPLY" in c or "HHI" in c}, sorted(
        codes - with_values
    )
    province = latest.filter("region_code = '210000' and chain_code = 'all'")
    assert province.count() >= 20
