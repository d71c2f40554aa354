"""Reference tables (GB/T 2260, GB/T 4754, chain definitions) from the repo into silver.ref_*."""

import dagster as dg

from ingest.reference import REF_CHAIN_INDUSTRY, REF_CHAIN_LINK, REF_INDUSTRY, REF_REGION, load_reference
from orchestration.metadata import asset_spec
from orchestration.resources import SparkResource

REFERENCE_CONTRACTS = (REF_REGION, REF_INDUSTRY, REF_CHAIN_INDUSTRY, REF_CHAIN_LINK)


@dg.multi_asset(
    name="reference_tables",
    specs=[asset_spec(c) for c in REFERENCE_CONTRACTS],
    can_subset=False,
)
def reference_tables(spark: SparkResource):
    report = load_reference(spark.tables())
    for contract in REFERENCE_CONTRACTS:
        yield dg.MaterializeResult(asset_key=contract.asset_key, metadata=report[contract.name])
