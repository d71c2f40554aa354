"""The audit trail's Dagster side beyond its asset: the daily ``audit_trail`` schedule, and the
sensors that audit the runs the daemon launches.

- ``audit_trail_daily`` (01:00 China Standard Time): checkpoints are signed only when the
  ``audit_trail`` job runs, so it runs every day; it also copies the trail to
  ``audit.security_trail`` and verifies it (chain, checkpoints, retention).
- ``audit_daemon_run_success`` / ``audit_daemon_run_failure``: every finished run without the
  ``ibrain/actor`` tag — launched by a schedule, a sensor, a backfill or the UI, not by an
  identified user's command (which audits its own runs, ibrain_cli/auth.py) — gets an ``ops.run``
  record as ``system:dagster`` with its run id, job, partition, tags and outcome.

Both start RUNNING whatever IBRAIN_SENSORS says: they launch no pipeline work, and the audit must
not depend on someone switching it on (docs/architecture.md: security).
"""

from __future__ import annotations

import socket
from typing import Any

import dagster as dg

from orchestration.jobs import AUDIT_TRAIL_JOB_NAME

ACTOR_TAG = "ibrain/actor"  # set by ibrain_cli.auth.actor_tags on the runs a command launches
SYSTEM_DAGSTER = "system:dagster"
AUDIT_SCHEDULE_NAME = "audit_trail_daily"


def launched_by(tags: dict[str, str]) -> str:
    """What launched a run without an identified user, from Dagster's own tags."""
    for tag, kind in (
        ("dagster/schedule_name", "schedule"),
        ("dagster/sensor_name", "sensor"),
        ("dagster/backfill", "backfill"),
    ):
        if tags.get(tag):
            return f"{kind}:{tags[tag]}"
    return "unidentified (Dagster UI or API)"


def partition_of(tags: dict[str, str]) -> str | None:
    """The run's partition, or its partition range as ``start..end``."""
    if tags.get("dagster/partition"):
        return tags["dagster/partition"]
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start and end:
        return start if start == end else f"{start}..{end}"
    return None


def audit_run(instance: dg.DagsterInstance, run: dg.DagsterRun, result: str) -> int | None:
    """Write the ``ops.run`` record of ``run`` as ``system:dagster``; the record's seq, or None when
    the run was launched by an identified user (or is recorded already: a repeated tick)."""
    from sqlalchemy import select

    from security.actor import Actor
    from security.audit.models import AuditRecord
    from security.audit.trail import record
    from security.db import make_engine, migrate, transaction

    tags = dict(run.tags)
    if tags.get(ACTOR_TAG):
        return None
    details = None
    if result == "failure":
        failed = sorted(
            {e.step_key for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)}
            - {None}
        )
        details = f"failed steps: {', '.join(failed)}" if failed else "the run failed"
    params: dict[str, Any] = {
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": partition_of(tags),
        "launched_by": launched_by(tags),
        "tags": tags,  # keys naming a secret are redacted by the trail
    }
    engine = make_engine()
    try:
        migrate(engine)
        with transaction(engine) as session:
            done = session.scalar(
                select(AuditRecord.seq).where(
                    AuditRecord.principal == SYSTEM_DAGSTER,
                    AuditRecord.event_type == "ops.run",
                    AuditRecord.request_id == run.run_id,
                )
            )
            if done is not None:
                return None
            entry = record(
                session,
                actor=Actor(SYSTEM_DAGSTER),
                event_type="ops.run",
                object=f"job:{run.job_name}",
                result=result,
                params=params,
                request_id=run.run_id,
                client=f"dagster@{socket.gethostname()}",
                details=details,
            )
            return entry.seq
    finally:
        engine.dispose()


def _evaluate(context: dg.RunStatusSensorContext, result: str) -> dg.SkipReason | None:
    seq = audit_run(context.instance, context.dagster_run, result)
    if seq is None:
        return dg.SkipReason(f"run {context.dagster_run.run_id}: launched by a user (audited by the command)")
    context.log.info(f"run {context.dagster_run.run_id} audited as record #{seq}")
    return None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="audit_daemon_run_success",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Audit (ops.run, system:dagster) each successful run no identified user launched.",
)
def audit_daemon_run_success(context: dg.RunStatusSensorContext):
    return _evaluate(context, "success")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE,
    name="audit_daemon_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Audit (ops.run, system:dagster) each failed run no identified user launched.",
)
def audit_daemon_run_failure(context: dg.RunStatusSensorContext):
    return _evaluate(context, "failure")


audit_trail_daily = dg.ScheduleDefinition(
    name=AUDIT_SCHEDULE_NAME,
    job_name=AUDIT_TRAIL_JOB_NAME,
    cron_schedule="0 1 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily: sign a checkpoint of the audit trail, copy it to audit.security_trail, verify it.",
)

AUDIT_SENSORS = [audit_daemon_run_success, audit_daemon_run_failure]
