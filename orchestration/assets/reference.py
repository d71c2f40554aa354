"""Reference tables (GB/T 2260, GB/T 4754, chain definitions) from the repo into silver.ref_*."""

import dagster as dg

from ingest.reference import load_reference, reference_contracts
from orchestration.metadata import asset_spec
from orchestration.resources import SparkResource


def reference_assets() -> list[dg.AssetsDefinition]:
    contracts = reference_contracts()

    @dg.multi_asset(name="reference_tables", specs=[asset_spec(c) for c in contracts], can_subset=False)
    def reference_tables(spark: SparkResource):
        report = load_reference(spark.tables())
        for contract in contracts:
            yield dg.MaterializeResult(asset_key=contract.asset_key, metadata=report[contract.name])

    return [reference_tables]
