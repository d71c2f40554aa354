"""Silver assets (PySpark on Spark Connect): one per entity with its quarantine and quality checks,
the enterprise master (SCD2) and device state intervals."""

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from catalog.tables import LakeTables
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
from quality.expectations import current_month, run_suite
from quality.measure import reconcile
from quality.store import Evaluation
from quality.timeliness import (
    accessibility,
    delivery_timeliness,
    evaluation_month,
    has_delivery_deadline,
    upstream_timeliness,
)
from transforms.silver import FACTS, REGISTRY, enterprise_master
from transforms.silver.device_state_interval import build as build_device_state_intervals
from transforms.silver.framework import Entity, bronze_rows, build, period_text

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
            entity.silver,
            reconcile(bronze_rows(tables, entity), kept, quarantined),
            tables,
            evaluation_month(kept),
        )
        yield from recorded_rule_results(
            tables, entity.silver, _recorded(tables, entity, kept, report.periods)
        )
        yield score_observation(tables, entity.silver)

    return _build


def _recorded(tables: LakeTables, entity: Entity, kept: DataFrame, rebuilt: list[str]) -> list[Evaluation]:
    """Great Expectations per month, timeliness and accessibility of a silver table, over the
    periods the run rebuilt (or its latest period, when nothing needed rebuilding)."""
    periods = rebuilt or _latest_period(kept, entity.grain)
    in_run = kept.filter(period_text("period", entity.grain).isin(periods))
    evaluations = run_suite(entity.silver, in_run, periods)
    evaluations += _timeliness(tables, entity.silver, entity.bronze, periods, rebuilt=bool(rebuilt))
    evaluations += accessibility(tables, entity.silver)
    return evaluations


def _latest_period(df: DataFrame, grain: str) -> list[str]:
    latest = df.select(F.max(period_text("period", grain)).alias("p")).collect()[0].p
    return [latest] if latest else []


def _timeliness(
    tables: LakeTables, silver: Contract, bronze: Contract, periods: list, rebuilt: bool
) -> list[Evaluation]:
    """Timeliness of the deliveries the table is built from (ingest ledger vs the bronze
    contract's deadline), or, for a source without a deadline, whether the table holds the latest
    month its bronze table holds."""
    if has_delivery_deadline(bronze):
        return delivery_timeliness(tables, [silver], bronze, periods)
    return upstream_timeliness(tables, silver, [bronze], rebuilt=rebuilt, source="catalog")


@dg.asset(
    key=MASTER.asset_key,
    deps=[REGISTRY.silver.asset_key],
    description=f"{MASTER.name_zh} — {MASTER.description}",
    metadata=contract_metadata(MASTER),
    freshness_policy=freshness_policy(MASTER),
    owners=[MASTER.owner],
    group_name="silver",
    kinds={"delta", "spark"},
    check_specs=[
        dg.AssetCheckSpec(
            "one_current_version",
            asset=MASTER.asset_key,
            blocking=True,
            description="[一致性] 每个企业恰有一条当前版本",
        ),
        *recorded_rule_check_specs(MASTER),
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
    # A table without months: expectations over the whole table; timely when rebuilt.
    evaluations = run_suite(MASTER, tables.read(MASTER.layer, MASTER.table), None)
    evaluations += upstream_timeliness(tables, MASTER, [REGISTRY.silver], rebuilt=True, source="catalog")
    evaluations += accessibility(tables, MASTER)
    evaluations.append(
        Evaluation(
            dataset=MASTER.name, rule_id="one_current_version", dimension="一致性", severity="ERROR",
            source="asset_check", period=current_month(), checked=report.enterprises,
            passed_rows=max(report.enterprises - abs(report.current - report.enterprises), 0), threshold=1.0,
        )
    )  # fmt: skip
    yield from recorded_rule_results(tables, MASTER, evaluations)


INTERVALS = get_contract("silver", "device_state_interval")
TELEMETRY = get_contract("silver", "telemetry_reading")
TELEMETRY_SOURCE = get_contract("bronze", "ent_telemetry")


@dg.asset(
    key=INTERVALS.asset_key,
    deps=[TELEMETRY.asset_key],
    description=f"{INTERVALS.name_zh} — {INTERVALS.description}",
    metadata=contract_metadata(INTERVALS),
    freshness_policy=freshness_policy(INTERVALS),
    owners=[INTERVALS.owner],
    group_name="silver",
    kinds={"delta", "spark"},
    check_specs=recorded_rule_check_specs(INTERVALS),
)
def device_state_interval(spark: SparkResource):
    tables = spark.tables()
    days = build_device_state_intervals(tables)
    yield dg.MaterializeResult(metadata={"days_rebuilt": ", ".join(map(str, days)) or "none"})
    intervals = tables.read(INTERVALS.layer, INTERVALS.table)
    measured = [d.isoformat() for d in days] or _latest_period(intervals, "day")
    in_run = intervals.filter(period_text("period", "day").isin(measured))
    evaluations = run_suite(INTERVALS, in_run, measured)
    evaluations += delivery_timeliness(tables, [INTERVALS], TELEMETRY_SOURCE, measured)
    evaluations += accessibility(tables, INTERVALS)
    yield from recorded_rule_results(tables, INTERVALS, evaluations)


silver_assets = [
    silver_asset(REGISTRY, []),
    enterprise,
    *[silver_asset(entity, [MASTER.asset_key]) for entity in FACTS],
    device_state_interval,
]
