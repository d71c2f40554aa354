"""Silver assets (PySpark on Spark Connect): one per entity with its quarantine and quality checks,
the enterprise master (SCD2) and device state intervals."""

import dagster as dg

from catalog import get_contract
from orchestration.checks import quarantine_rule_check_specs, quarantine_rule_results, reconciliation_result
from orchestration.metadata import asset_spec, contract_metadata, external_spec
from orchestration.resources import SparkResource
from quality.measure import reconcile
from transforms.silver import FACTS, REGISTRY, device_states, enterprise_master
from transforms.silver.framework import Entity, bronze_rows, build

REFERENCE_KEYS = [["silver", "ref_region"], ["silver", "ref_industry"]]
MASTER = get_contract("silver", "enterprise")
REVIEW = get_contract("silver", "enterprise_match_review")

# Written by the fact assets (candidates) and by people (decisions): shown for lineage.
enterprise_match_review = external_spec(REVIEW)


def silver_asset(entity: Entity, extra_deps: list[list[str]]) -> dg.AssetsDefinition:
    deps = [entity.bronze.asset_key, *REFERENCE_KEYS, *extra_deps]

    @dg.multi_asset(
        name=f"silver_{entity.name}",
        specs=[asset_spec(entity.silver, deps=deps), asset_spec(entity.quarantine, deps=deps)],
        check_specs=quarantine_rule_check_specs(entity.silver, reconciled=True),
        can_subset=False,
    )
    def _build(spark: SparkResource):
        tables = spark.tables()
        report = build(tables, entity)
        yield dg.MaterializeResult(asset_key=entity.silver.asset_key, metadata=report.as_metadata())
        yield dg.MaterializeResult(asset_key=entity.quarantine.asset_key, metadata=report.as_metadata())
        kept = tables.read(entity.silver.layer, entity.silver.table)
        quarantined = tables.read(entity.quarantine.layer, entity.quarantine.table)
        yield from quarantine_rule_results(entity.silver, kept, quarantined)
        yield reconciliation_result(entity.silver, reconcile(bronze_rows(tables, entity), kept, quarantined))

    return _build


@dg.asset(
    key=MASTER.asset_key,
    deps=[REGISTRY.silver.asset_key],
    description=f"{MASTER.name_zh} — {MASTER.description}",
    metadata=contract_metadata(MASTER),
    owners=[MASTER.owner],
    group_name="silver",
    kinds={"delta", "spark"},
    check_specs=[
        dg.AssetCheckSpec(
            "one_current_version",
            asset=MASTER.asset_key,
            blocking=True,
            description="[一致性] 每个企业恰有一条当前版本",
        )
    ],
)
def enterprise(spark: SparkResource):
    tables = spark.tables()
    report = enterprise_master.build(tables)
    yield dg.MaterializeResult(metadata=report.as_metadata())
    yield dg.AssetCheckResult(
        check_name="one_current_version",
        passed=report.current == report.enterprises,
        metadata={"enterprises": report.enterprises, "current_rows": report.current},
    )


INTERVALS = get_contract("silver", "device_state_interval")
TELEMETRY = get_contract("silver", "telemetry_reading")


@dg.asset(
    key=INTERVALS.asset_key,
    deps=[TELEMETRY.asset_key],
    description=f"{INTERVALS.name_zh} — {INTERVALS.description}",
    metadata=contract_metadata(INTERVALS),
    owners=[INTERVALS.owner],
    group_name="silver",
    kinds={"delta", "spark"},
)
def device_state_interval(spark: SparkResource) -> dg.MaterializeResult:
    days = device_states.build(spark.tables())
    return dg.MaterializeResult(metadata={"days_rebuilt": ", ".join(map(str, days)) or "none"})


silver_assets = [
    silver_asset(REGISTRY, []),
    enterprise,
    *[silver_asset(entity, [MASTER.asset_key]) for entity in FACTS],
    device_state_interval,
]
