"""Landing → bronze assets, one per source system, driven by the ingest ledger."""

import dagster as dg

from catalog import get_contract
from ingest.bronze import load_pending
from ingest.sources import SOURCES, Source
from orchestration.checks import (
    quarantine_rule_check_specs,
    quarantine_rule_results,
    reconciliation_result,
)
from orchestration.metadata import asset_spec, contract_metadata
from orchestration.resources import SparkResource
from quality.measure import reconcile_ledger

LEDGER = get_contract("audit", "ingest_ledger")

# The ledger is written when files land (CLI, sensors) and updated by the bronze loaders, so
# Dagster sees it as an external asset upstream of every bronze table.
ingest_ledger = dg.AssetSpec(
    key=LEDGER.asset_key,
    description=f"{LEDGER.name_zh} — {LEDGER.description}",
    metadata=contract_metadata(LEDGER),
    owners=[LEDGER.owner],
    group_name="audit",
    kinds={"delta"},
)


def bronze_asset(source: Source) -> dg.AssetsDefinition:
    bronze, quarantine = source.bronze_contract, source.quarantine_contract

    @dg.multi_asset(
        name=f"bronze_{source.name}",
        specs=[asset_spec(bronze, deps=[LEDGER.asset_key]), asset_spec(quarantine, deps=[LEDGER.asset_key])],
        check_specs=quarantine_rule_check_specs(bronze, reconciled=True),
        can_subset=False,
    )
    def _load(context: dg.AssetExecutionContext, spark: SparkResource):
        tables = spark.tables()
        report = load_pending(tables, source.name)
        for batch, message in report.failed.items():
            context.log.error(f"batch {batch} could not be read: {message}")
        meta = report.as_metadata()
        yield dg.MaterializeResult(asset_key=bronze.asset_key, metadata=meta)
        yield dg.MaterializeResult(asset_key=quarantine.asset_key, metadata=meta)
        kept = tables.read(bronze.layer, bronze.table)
        rejected = tables.read(quarantine.layer, quarantine.table)
        yield from quarantine_rule_results(bronze, kept, rejected)
        ledger = tables.read(LEDGER.layer, LEDGER.table).filter(f"source = '{source.name}'")
        yield reconciliation_result(bronze, reconcile_ledger(ledger, kept, rejected))

    return _load


bronze_assets = [bronze_asset(s) for s in SOURCES.values()]
