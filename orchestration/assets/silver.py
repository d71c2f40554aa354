"""Silver assets (PySpark on Spark Connect): one per entity with its quarantine and quality checks,
the enterprise master (SCD2) and device state intervals."""

import dagster as dg

from catalog import get_contract
from orchestration.checks import (
    quarantine_rule_check_specs,
    quarantine_rule_results,
    reconciliation_result,
    recorded_rule_check_specs,
    recorded_rule_results,
    score_observation,
)
from orchestration.metadata import asset_spec, contract_metadata, external_spec, freshness_policy
from orchestration.resources import SparkResource
from quality.evaluations import check_evaluation, recorded_evaluations
from quality.measure import reconcile
from quality.timeliness import evaluation_month
from transforms.silver import device_state_interval as state_intervals
from transforms.silver import enterprise, facts, registry
from transforms.silver.framework import Entity, bronze_rows, build, measured_periods

REFERENCE_KEYS = [["silver", "ref_region"], ["silver", "ref_industry"]]


def review_spec() -> dg.AssetSpec:
    """silver.enterprise_match_review, written by the fact assets (candidates) and by people
    (decisions): shown for lineage."""
    return external_spec(get_contract("silver", "enterprise_match_review"))


def silver_asset(entity: Entity, extra_deps: list[list[str]]) -> dg.AssetsDefinition:
    deps = [entity.bronze.asset_key, *REFERENCE_KEYS, *extra_deps]

    @dg.multi_asset(
        name=f"silver_{entity.name}",
        specs=[asset_spec(entity.silver, deps=deps), asset_spec(entity.quarantine, deps=deps)],
        check_specs=[
            *quarantine_rule_check_specs(entity.silver, reconciled=True),
            *recorded_rule_check_specs(entity.silver),
        ],
        can_subset=False,
    )
    def _build(spark: SparkResource):
        tables = spark.tables()
        report = build(tables, entity)
        yield dg.MaterializeResult(asset_key=entity.silver.asset_key, metadata=report.as_metadata())
        yield dg.MaterializeResult(asset_key=entity.quarantine.asset_key, metadata=report.as_metadata())
        kept = tables.read(entity.silver.layer, entity.silver.table)
        quarantined = tables.read(entity.quarantine.layer, entity.quarantine.table)
        yield from quarantine_rule_results(tables, entity.silver, kept, quarantined)
        yield reconciliation_result(
            tables,
            entity.silver,
            reconcile(bronze_rows(tables, entity), kept, quarantined),
            evaluation_month(kept),
        )
        # the periods the run rebuilt (or the latest, when nothing needed rebuilding)
        periods, in_run = measured_periods(kept, entity.grain, report.periods)
        evaluations = recorded_evaluations(
            tables, entity.silver, in_run, periods, source=entity.bronze, rebuilt=bool(report.periods)
        )
        yield from recorded_rule_results(tables, entity.silver, evaluations)
        yield score_observation(tables, entity.silver)

    return _build


def enterprise_asset() -> dg.AssetsDefinition:
    master = enterprise.master_contract()
    registry_records = registry().silver
    rule = enterprise.ONE_CURRENT_VERSION

    @dg.asset(
        key=master.asset_key,
        deps=[registry_records.asset_key],
        description=f"{master.name_zh} — {master.description}",
        metadata=contract_metadata(master),
        freshness_policy=freshness_policy(master),
        owners=[master.owner],
        group_name="silver",
        kinds={"delta", "spark"},
        check_specs=[
            dg.AssetCheckSpec(
                rule.id,
                asset=master.asset_key,
                blocking=True,
                description=f"[{rule.dimension}] {rule.description_zh}",
            ),
            *recorded_rule_check_specs(master),
        ],
    )
    def _enterprise(spark: SparkResource):
        tables = spark.tables()
        report = enterprise.build(tables)
        yield dg.MaterializeResult(metadata=report.as_metadata())
        yield dg.AssetCheckResult(
            check_name=rule.id,
            passed=report.one_current_version,
            metadata={"enterprises": report.enterprises, "current_rows": report.current},
        )
        # A table without months: expectations over the whole table; timely when rebuilt.
        whole = tables.read(master.layer, master.table)
        evaluations = recorded_evaluations(tables, master, whole, None, source=registry_records, rebuilt=True)
        evaluations.append(
            check_evaluation(
                master.name, rule.id, rule.dimension, report.enterprises, report.current_version_errors
            )
        )
        yield from recorded_rule_results(tables, master, evaluations)

    return _enterprise


def device_state_interval_asset() -> dg.AssetsDefinition:
    intervals = state_intervals.intervals_contract()
    readings = get_contract("silver", "telemetry_reading")
    telemetry = get_contract("bronze", "ent_telemetry")

    @dg.asset(
        key=intervals.asset_key,
        deps=[readings.asset_key],
        description=f"{intervals.name_zh} — {intervals.description}",
        metadata=contract_metadata(intervals),
        freshness_policy=freshness_policy(intervals),
        owners=[intervals.owner],
        group_name="silver",
        kinds={"delta", "spark"},
        check_specs=recorded_rule_check_specs(intervals),
    )
    def device_state_interval(spark: SparkResource):
        tables = spark.tables()
        days = state_intervals.build(tables)
        yield dg.MaterializeResult(metadata={"days_rebuilt": ", ".join(map(str, days)) or "none"})
        rows = tables.read(intervals.layer, intervals.table)
        measured, in_run = measured_periods(rows, "day", [d.isoformat() for d in days])
        evaluations = recorded_evaluations(
            tables, intervals, in_run, measured, source=telemetry, rebuilt=bool(days)
        )
        yield from recorded_rule_results(tables, intervals, evaluations)

    return device_state_interval


def silver_assets() -> list[dg.AssetsDefinition]:
    master_key = enterprise.master_contract().asset_key
    return [
        silver_asset(registry(), []),
        enterprise_asset(),
        *[silver_asset(entity, [master_key]) for entity in facts()],
        device_state_interval_asset(),
    ]
