"""The lake-vs-catalog check fails for exactly the drift it exists to catch (real engine, real Delta)."""

import pytest
from pyspark.sql import functions as F

from catalog import load_catalog
from catalog.consistency import lake_problems
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables
from ibrain import delta

pytestmark = pytest.mark.integration


def test_a_model_that_grew_a_column_or_changed_a_type_is_reported(tmp_lake: LakeTables) -> None:
    spark, lake = tmp_lake.spark, tmp_lake.lake
    catalog = load_catalog()
    contract = catalog["gold.fct_enterprise_month"]
    empty = spark.createDataFrame([], struct_type(contract))

    delta.append(spark, empty, lake.ref("gold", "fct_enterprise_month"), ["period"])
    assert lake_problems(lake, spark, catalog) == []  # exactly the contract: consistent

    grown = empty.withColumn("new_metric", F.lit(1.0)).withColumn("avg_employees", F.lit("x"))
    delta.append(spark, grown.drop("energy_consumption"), lake.ref("theme", "grown_model"), ["period"])
    catalog["theme.grown_model"] = contract  # a contract that does not know the new column
    assert lake_problems(lake, spark, catalog) == [
        "theme.grown_model.new_metric: column not in the contract",
        "theme.grown_model.energy_consumption: contract column missing from the table",
        "theme.grown_model.avg_employees: type string but the contract says int",
    ]
    del catalog["theme.grown_model"]
    assert lake_problems(lake, spark, catalog) == [
        "theme.grown_model: Delta table without a contract (catalog/contracts/theme/grown_model.yaml)"
    ]
