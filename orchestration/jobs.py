"""Jobs, schedules and sensors.

- ``ingest_monthly`` / ``ingest_daily``: the bronze assets of each partitioning, run for a range of
  periods (one run per range: BackfillPolicy.single_run).
- ``ibrain_pipeline``: everything downstream of bronze (reference data, silver, dbt incl. the exchange
  models); delivery packages and sending are in jobs of their own (orchestration/assets/deliveries.py).
- ``pending_deliveries_sensor``: files in an inbox or pending in the ledger → an ingest run for
  their periods; ``downstream_after_ingest`` then runs the pipeline after each successful ingest.
- ``registry_daily_pull``: the registry API pull, daily at 06:00 China Standard Time.
- ``delta_maintenance`` weekly.
Sensors start STOPPED unless IBRAIN_SENSORS=on (switch them on in the UI otherwise).

The jobs that select assets by source, and the sensors that target them, are built when the
definitions are (:func:`asset_jobs`, :func:`sensors`): the sources come from the contracts, which
are not read at import.
"""

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import dagster as dg

from ibrain import delta
from ibrain.lake import Lake
from ibrain.settings import get_settings
from ingest.inbox import pending_work
from ingest.ledger import data_months
from ingest.sources import Source, get_source, sources
from orchestration.partitions import BY_GRAIN, monthly

if TYPE_CHECKING:  # what define_asset_job returns (not exported by dagster itself)
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

log = logging.getLogger(__name__)

PIPELINE_JOB_NAME = "ibrain_pipeline"
INGEST_JOB_NAMES = {"month": "ingest_monthly", "day": "ingest_daily"}
# The audit trail copy runs in a job of its own: it needs the state database and the checkpoint key,
# which the data pipeline does not (docs/architecture.md: security).
AUDIT_TRAIL_GROUP = "audit_trail"
AUDIT_TRAIL_JOB_NAME = "audit_trail"
# Delivery packages too (orchestration/assets/deliveries.py): they need the state DB and the delivery keys.
DELIVERIES_GROUP = "deliveries"


def bronze_keys(grain: str | None = None) -> list[dg.AssetKey]:
    keys = []
    for source in sources().values():
        if grain is None or source.spec.grain == grain:
            keys += [
                dg.AssetKey(source.bronze_contract.asset_key),
                dg.AssetKey(source.quarantine_contract.asset_key),
            ]
    return keys


@dataclass(frozen=True)
class AssetJobs:
    ingest_monthly: "UnresolvedAssetJobDefinition"
    ingest_daily: "UnresolvedAssetJobDefinition"
    pipeline: "UnresolvedAssetJobDefinition"
    audit_trail: "UnresolvedAssetJobDefinition"


@cache
def asset_jobs() -> AssetJobs:
    return AssetJobs(
        ingest_monthly=dg.define_asset_job(
            INGEST_JOB_NAMES["month"],
            selection=dg.AssetSelection.assets(*bronze_keys("month")),
            description="Monthly sources: landing → bronze for a range of months.",
        ),
        ingest_daily=dg.define_asset_job(
            INGEST_JOB_NAMES["day"],
            selection=dg.AssetSelection.assets(*bronze_keys("day")),
            description="Daily sources (registry pulls, telemetry): landing → bronze.",
        ),
        pipeline=dg.define_asset_job(
            PIPELINE_JOB_NAME,
            selection=dg.AssetSelection.all()
            - dg.AssetSelection.assets(*bronze_keys())
            - dg.AssetSelection.groups(AUDIT_TRAIL_GROUP, DELIVERIES_GROUP),
            description="Downstream of bronze: reference data → silver → dbt (warehouses, exchange models).",
        ),
        audit_trail=dg.define_asset_job(
            AUDIT_TRAIL_JOB_NAME,
            selection=dg.AssetSelection.groups(AUDIT_TRAIL_GROUP),
            description="Checkpoint the security audit trail, copy it to audit.security_trail, verify it.",
        ),
    )


@dg.op(description="Compact small files, checkpoint and vacuum (retention ≥ 7 days) every Delta table.")
def maintain_delta_tables(context: dg.OpExecutionContext) -> None:
    lake = Lake(get_settings())
    for ref in lake.delta_tables():
        outcome = delta.maintain(lake, ref)
        context.log.info(f"{ref.name}: {outcome}")


@dg.job(description="Weekly Delta upkeep: OPTIMIZE (compact), checkpoint, VACUUM.")
def delta_maintenance() -> None:
    maintain_delta_tables()


delta_maintenance_schedule = dg.ScheduleDefinition(
    job=delta_maintenance,
    cron_schedule="0 3 * * 0",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.schedule(
    cron_schedule="0 6 * * *",
    job_name=INGEST_JOB_NAMES["day"],
    execution_timezone="Asia/Shanghai",
    description="Pull the registry API (updated_since the last watermark) for today.",
)
def registry_daily_pull(context: dg.ScheduleEvaluationContext):
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    registry = get_source("gov_registry")
    return dg.RunRequest(
        partition_key=day,
        asset_selection=[
            dg.AssetKey(registry.bronze_contract.asset_key),
            dg.AssetKey(registry.quarantine_contract.asset_key),
        ],
    )


def pipeline_tags(lake: Lake) -> dict[str, str]:
    """Partition-range tags for a pipeline run: every month with data (current month if none).

    The monthly dbt models replace exactly these months; unchanged months commit nothing (the
    replace_period MERGE only touches rows that differ), so a whole-range run is cheap.
    """
    keys = set(monthly.get_partition_keys())
    months = data_months(lake)
    outside = [m for m in months if m not in keys]
    if outside:  # only rejected deliveries have such months (ingest.bronze.load rejects them)
        log.warning("ledger months outside the monthly partitions, left out of the run: %s", outside)
        months = [m for m in months if m in keys]
    if not months:
        months = [monthly.get_last_partition_key()]
    return {"dagster/asset_partition_range_start": months[0], "dagster/asset_partition_range_end": months[-1]}


MAX_GAP = 3  # partitions without work that one run may span, rather than starting another run


def period_ranges(partitions: dg.PartitionsDefinition, periods: list[str]) -> list[tuple[str, str]]:
    """Group periods into ranges a single run covers, splitting where the gap is large (a late
    file for an old month must not mark a year of untouched partitions as materialised)."""
    index = {key: i for i, key in enumerate(partitions.get_partition_keys())}
    unknown = [p for p in periods if p not in index]
    if unknown:
        raise ValueError(f"periods outside the partitions (IBRAIN_PARTITIONS_START?): {unknown}")
    ordered = sorted(periods, key=index.__getitem__)
    ranges: list[list[str]] = []
    for period in ordered:
        if ranges and index[period] - index[ranges[-1][-1]] <= MAX_GAP + 1:
            ranges[-1].append(period)
        else:
            ranges.append([period])
    return [(r[0], r[-1]) for r in ranges]


def _within(source: Source, periods: list[str]) -> list[str]:
    """The periods with work, those outside the partitions (a file with a wrong period) replaced by
    the last partition: a run for it collects the inbox and rejects that file on its own, naming
    it, instead of the check failing for every source (issue 12)."""
    partitions = BY_GRAIN[source.spec.grain]
    keys = set(partitions.get_partition_keys())
    outside = [p for p in periods if p not in keys]
    if not outside:
        return periods
    log.warning("%s: periods outside the partitions, to be rejected by the run: %s", source.name, outside)
    return sorted({p for p in periods if p in keys} | {partitions.get_last_partition_key()})


def ingest_run_requests(work: dict[str, list[str]]) -> list[dg.RunRequest]:
    """Runs of each source's bronze asset over the ranges of periods with work (inbox or pending)."""
    requests = []
    for name, periods in sorted(work.items()):
        source = sources().get(name)
        if source is None or not periods:
            continue
        job_name = INGEST_JOB_NAMES[source.spec.grain]
        keys = [
            dg.AssetKey(source.bronze_contract.asset_key),
            dg.AssetKey(source.quarantine_contract.asset_key),
        ]
        for start, end in period_ranges(BY_GRAIN[source.spec.grain], _within(source, periods)):
            fingerprint = hashlib.sha256(repr((name, periods)).encode()).hexdigest()[:12]
            requests.append(dg.RunRequest(
                run_key=f"{name}-{start}-{end}-{fingerprint}", job_name=job_name, asset_selection=keys,
                tags={"dagster/asset_partition_range_start": start,
                      "dagster/asset_partition_range_end": end, "ibrain/source": name},
            ))  # fmt: skip
    return requests


def _sensor_status() -> dg.DefaultSensorStatus:
    on = (os.environ.get("IBRAIN_SENSORS") or "").lower() in {"1", "on", "true", "yes"}
    return dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED


@cache
def sensors() -> list[dg.SensorDefinition]:
    """``pending_deliveries_sensor`` and ``downstream_after_ingest``."""
    jobs = asset_jobs()

    @dg.sensor(
        jobs=[jobs.ingest_monthly, jobs.ingest_daily],
        minimum_interval_seconds=60,
        default_status=_sensor_status(),
        description="Inbox files or pending ledger deliveries → an ingest run for their periods.",
    )
    def pending_deliveries_sensor(context: dg.SensorEvaluationContext):
        work = pending_work(Lake(get_settings()))
        if not work:
            return dg.SkipReason("no inbox files and no pending deliveries in audit.ingest_ledger")
        return ingest_run_requests(work)

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[jobs.ingest_monthly, jobs.ingest_daily],
        request_job=jobs.pipeline,
        default_status=_sensor_status(),
        description="After a successful ingest run, materialise everything downstream.",
    )
    def downstream_after_ingest(context: dg.RunStatusSensorContext):
        return dg.RunRequest(
            run_key=f"downstream-{context.dagster_run.run_id}", tags=pipeline_tags(Lake(get_settings()))
        )

    return [pending_deliveries_sensor, downstream_after_ingest]
