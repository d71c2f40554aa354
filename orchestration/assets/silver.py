"""Silver assets (PySpark on Spark Connect), each with its quarantine and quality checks."""

import dagster as dg

from orchestration.checks import (
    quarantine_rule_check_specs,
    quarantine_rule_results,
    reconciliation_result,
)
from orchestration.metadata import asset_spec
from orchestration.resources import SparkResource
from quality.measure import reconcile
from transforms.silver import enterprise_month_stats as ems


@dg.multi_asset(
    name="silver_enterprise_month_stats",
    specs=[
        asset_spec(ems.SILVER, deps=[ems.BRONZE.asset_key]),
        asset_spec(ems.QUARANTINE, deps=[ems.BRONZE.asset_key]),
    ],
    check_specs=quarantine_rule_check_specs(ems.SILVER, reconciled=True),
    can_subset=False,
)
def silver_enterprise_month_stats(spark: SparkResource):
    tables = spark.tables()
    report = ems.build(tables)
    yield dg.MaterializeResult(asset_key=ems.SILVER.asset_key, metadata=report.as_metadata())
    yield dg.MaterializeResult(asset_key=ems.QUARANTINE.asset_key, metadata=report.as_metadata())
    kept = tables.read(ems.SILVER.layer, ems.SILVER.table)
    quarantined = tables.read(ems.QUARANTINE.layer, ems.QUARANTINE.table)
    yield from quarantine_rule_results(ems.SILVER, kept, quarantined)
    bronze = tables.read(ems.BRONZE.layer, ems.BRONZE.table)
    yield reconciliation_result(ems.SILVER, reconcile(bronze, kept, quarantined))
