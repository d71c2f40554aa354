"""Deliveries to the provincial platforms (issue 15), as Dagster adapters of serving/deliveries.

- ``["deliveries", <recipient>]``: one asset per recipient, partitioned by month, downstream of
  the recipient's exchange models (dbt): materialising a range of months builds the due
  packages of those months (serving/deliveries/builder.py; unchanged content builds nothing).
  A backfill of past months from the UI is a backfill of this asset.
- ``deliveries_build_<recipient>``: that asset's job; ``deliveries_<recipient>_monthly``: its
  schedule, on the 20th at 09:00 China Standard Time (after the statistics deadline), over every
  month from the first partition to the month before (a correction of any earlier month is due
  too; unchanged months build nothing).
- ``deliveries_send``: sends the outbox's due packages. ``delivery_outbox_sensor`` launches it
  when packages are due — the sending happens in that run, never inside the sensor tick.

These run in jobs of their own (not in ``ibrain_pipeline``): they need the state database and the
delivery keys, which the data pipeline does not. Runs launched by the daemon act as
``system:dagster``; a run launched by a command carries its actor in the ``ibrain/actor`` tag.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache

import dagster as dg

from orchestration.jobs import DELIVERIES_GROUP, _sensor_status
from orchestration.partitions import TIMEZONE, monthly
from orchestration.resources import SparkResource

GROUP = DELIVERIES_GROUP
SEND_JOB_NAME = "deliveries_send"
ACTOR_TAG = "ibrain/actor"
DAEMON_ACTOR = "system:dagster"


def package_key(recipient: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, recipient])


def build_job_name(recipient: str) -> str:
    return f"deliveries_build_{recipient}"


def schedule_name(recipient: str) -> str:
    return f"deliveries_{recipient}_monthly"


def _actor(tags: dict[str, str]):
    from security.actor import Actor

    return Actor(tags.get(ACTOR_TAG) or DAEMON_ACTOR)


def package_asset(recipient: str) -> dg.AssetsDefinition:
    from serving.deliveries.builder import RECIPIENTS, exports

    sources = sorted({tuple(e.contract.asset_key) for e in exports(recipient)})

    @dg.asset(
        key=package_key(recipient),
        deps=[dg.AssetKey(list(k)) for k in sources],
        group_name=GROUP,
        partitions_def=monthly,
        backfill_policy=dg.BackfillPolicy.single_run(),
        owners=["team:industry-analysis"],
        kinds={"json"},
        tags={"layer": "exchange", "classification": "general"},
        description=f"报送{RECIPIENTS.get(recipient, recipient)}: the due packages of the run's months "
        "(disclosure-controlled, signed; outbox in the state database).",
    )
    def _packages(context: dg.AssetExecutionContext, spark: SparkResource) -> dg.MaterializeResult:
        from serving.deliveries.service import build

        periods = context.partition_keys
        report = build(spark.tables(), _actor(context.run.tags), recipients_=[recipient], periods=periods)
        context.log.info(f"{recipient}: built {len(report.built)}, unchanged {len(report.unchanged)}")
        return dg.MaterializeResult(
            metadata={
                "periods": ", ".join(periods),
                "built": len(report.built),
                "unchanged": len(report.unchanged),
                "packages": "\n".join(report.built) or "none",
                "suppressed_cells": sum(report.suppressed.values()),
            }
        )

    return _packages


@dg.op(description="Send every due package of the outbox to its platform (retries by the delivery policy).")
def send_due_packages(context: dg.OpExecutionContext) -> None:
    from ibrain.lake import Lake
    from serving.deliveries.service import send

    report = send(Lake(), _actor(context.run.tags))
    context.log.info(
        f"acknowledged {len(report.acknowledged)}, superseded {len(report.superseded)}, "
        f"retrying {len(report.retrying)}, dead letter {len(report.dead_letter)} ({report.attempts} attempts)"
    )
    if report.dead_letter:
        raise dg.Failure(
            f"{len(report.dead_letter)} packages in dead_letter",
            metadata={"ids": ", ".join(report.dead_letter)},
        )


@dg.job(name=SEND_JOB_NAME, description="Send the outbox's due packages to the provincial platforms.")
def deliveries_send() -> None:
    send_due_packages()


def schedule_range(scheduled: dt.datetime) -> tuple[str, str] | None:
    """The months a schedule tick on ``scheduled`` builds: from the first partition to the month
    before ``scheduled`` (China time); None before the first partition has ended."""
    local = scheduled.astimezone(dt.timezone(dt.timedelta(hours=8)))
    last = dt.date(local.year, local.month, 1) - dt.timedelta(days=1)
    first = monthly.get_first_partition_key()
    end = last.strftime("%Y-%m")
    return (first, end) if first is not None and end >= first else None


@dataclass(frozen=True)
class DeliveryDefinitions:
    assets: list[dg.AssetsDefinition]
    jobs: list
    schedules: list[dg.ScheduleDefinition]
    sensors: list[dg.SensorDefinition]


@cache
def delivery_definitions() -> DeliveryDefinitions:
    """Per recipient its package asset, build job and schedule; the send job and its sensor."""
    from serving.deliveries.service import recipients

    assets, jobs, schedules = [], [], []
    for recipient in recipients():
        asset = package_asset(recipient)
        job = dg.define_asset_job(
            build_job_name(recipient),
            selection=dg.AssetSelection.assets(package_key(recipient)),
            description=f"Build the due delivery packages for {recipient}.",
        )
        assets.append(asset)
        jobs.append(job)
        schedules.append(_schedule(recipient, job))

    @dg.sensor(
        job=deliveries_send,
        minimum_interval_seconds=60,
        default_status=_sensor_status(),
        description="Packages due in the outbox (pending, or retrying and due) → a deliveries_send run.",
    )
    def delivery_outbox_sensor(context: dg.SensorEvaluationContext):
        from serving.deliveries.service import due_packages, state_engine

        busy = context.instance.get_runs(
            dg.RunsFilter(
                job_name=SEND_JOB_NAME,
                statuses=[
                    dg.DagsterRunStatus.QUEUED,
                    dg.DagsterRunStatus.STARTING,
                    dg.DagsterRunStatus.STARTED,
                ],
            ),
            limit=1,
        )
        if busy:
            return dg.SkipReason(f"deliveries_send run {busy[0].run_id} is still sending")
        engine = state_engine()
        try:
            due = due_packages(engine, dt.datetime.now(dt.UTC))
        finally:
            engine.dispose()
        if not due:
            return dg.SkipReason("no package due in the outbox")
        # The run key names the due packages and their attempts: the same due set asks once.
        key = hashlib.sha256(repr(due).encode()).hexdigest()[:16]
        return dg.RunRequest(run_key=f"send-{key}", tags={"ibrain/due_packages": str(len(due))})

    return DeliveryDefinitions(assets, [*jobs, deliveries_send], schedules, [delivery_outbox_sensor])


def _schedule(recipient: str, job) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=schedule_name(recipient),
        job=job,
        cron_schedule="0 9 20 * *",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus(_sensor_status().value),
        description=f"On the 20th (after the statistics deadline): build {recipient}'s due packages.",
    )
    def _monthly(context: dg.ScheduleEvaluationContext):
        scheduled = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
        months = schedule_range(scheduled)
        if months is None:
            return dg.SkipReason("no month has ended since the first partition")
        start, end = months
        return dg.RunRequest(
            run_key=f"{recipient}-{end}",
            tags={
                "dagster/asset_partition_range_start": start,
                "dagster/asset_partition_range_end": end,
            },
        )

    return _monthly
