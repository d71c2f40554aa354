"""The audit trail's Dagster side on a real instance in a temporary home: runs the daemon launches are
audited as ``system:dagster`` by the run status sensors (orchestration/auditing.py); the daily
``audit_trail`` schedule's run signs a checkpoint, copies and verifies the trail; and no planted
secret — in the run's environment or in the parameters of audited actions — reaches Dagster's event
log storage, the run's logs or the lake copy."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, select

from catalog.tables import LakeTables
from orchestration.assets.audit import audit_trail_definitions
from orchestration.auditing import (
    AUDIT_SCHEDULE_NAME,
    audit_daemon_run_failure,
    audit_daemon_run_success,
    audit_trail_daily,
)
from orchestration.jobs import asset_jobs
from orchestration.resources import SparkResource
from security.audit.models import AuditCheckpoint, AuditRecord
from security.audit.trail import record
from security.db import transaction
from tests.support.audit import ACTOR, audit_env, ready_engine

pytestmark = pytest.mark.integration


@dg.op
def step_ok() -> None:
    pass


@dg.op
def step_broken() -> None:
    raise ValueError("planned failure")


@dg.job
def small_ok() -> None:
    step_ok()


@dg.job
def small_broken() -> None:
    step_broken()


def _evaluate(sensor: dg.RunStatusSensorDefinition, instance: dg.DagsterInstance, run_id: str, event_type):
    """Evaluate ``sensor`` as the daemon would on the finished run ``run_id``."""
    run = instance.get_run_by_id(run_id)
    (entry,) = instance.all_logs(run_id, of_type=event_type)
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_event=entry.dagster_event, dagster_instance=instance, dagster_run=run
    )
    return sensor(context)


def _daemon_records(engine: Engine) -> list[AuditRecord]:
    with transaction(engine) as session:
        found = list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.principal == "system:dagster").order_by(AuditRecord.seq)
            )
        )
        session.expunge_all()
        return found


def test_daemon_runs_are_audited_as_system_dagster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    audit_env(monkeypatch, tmp_path, url)
    engine = ready_engine(url)
    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))

    scheduled = small_ok.execute_in_process(
        instance=instance,
        tags={
            "dagster/schedule_name": "audit_trail_daily",
            "dagster/partition": "2025-01",
            "api_token": "t0k",
        },
    )
    sensed = small_broken.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={
            "dagster/sensor_name": "pending_deliveries_sensor",
            "dagster/asset_partition_range_start": "2024-11",
            "dagster/asset_partition_range_end": "2025-01",
        },
    )
    by_user = small_ok.execute_in_process(instance=instance, tags={"ibrain/actor": "user:eng"})
    assert scheduled.success and not sensed.success and by_user.success

    assert (
        _evaluate(audit_daemon_run_success, instance, scheduled.run_id, dg.DagsterEventType.RUN_SUCCESS)
        is None
    )
    assert (
        _evaluate(audit_daemon_run_failure, instance, sensed.run_id, dg.DagsterEventType.RUN_FAILURE) is None
    )
    skipped = _evaluate(audit_daemon_run_success, instance, by_user.run_id, dg.DagsterEventType.RUN_SUCCESS)
    assert isinstance(skipped, dg.SkipReason) and "launched by a user" in skipped.skip_message
    # a repeated tick on the same run writes nothing more
    _evaluate(audit_daemon_run_success, instance, scheduled.run_id, dg.DagsterEventType.RUN_SUCCESS)

    success, failure = _daemon_records(engine)
    assert (success.seq, success.role, success.event_type, success.object, success.result) == (
        1,
        None,
        "ops.run",
        "job:small_ok",
        "success",
    )
    assert success.request_id == scheduled.run_id and success.details is None
    assert success.client.startswith("dagster@")
    assert json.loads(success.params) == {
        "run_id": scheduled.run_id,
        "job": "small_ok",
        "partition": "2025-01",
        "launched_by": "schedule:audit_trail_daily",
        "tags": {
            "dagster/schedule_name": "audit_trail_daily",
            "dagster/partition": "2025-01",
            "api_token": "[redacted]",
        },
    }
    assert (failure.seq, failure.object, failure.result, failure.details) == (
        2,
        "job:small_broken",
        "failure",
        "failed steps: step_broken",
    )
    params = json.loads(failure.params)
    assert (params["run_id"], params["partition"], params["launched_by"]) == (
        sensed.run_id,
        "2024-11..2025-01",
        "sensor:pending_deliveries_sensor",
    )
    instance.dispose()


CANARIES = {
    # in the environment of the run
    "IBRAIN_TOKEN": "canary-env-token-6c1e9b",
    "IBRAIN_REGISTRY_API_TOKEN": "canary-env-apitoken-0d7f42",
    "PGPASSWORD": "canary-env-password-3a8e51",
    "IBRAIN_PLATFORM_APP_SECRET": "canary-env-secret-9b2c07",
}
PARAM_CANARIES = {
    "password": "canary-param-password-51f0",
    "app_secret": "canary-param-secret-a7d3",
    "access_token": "canary-param-token-2e94",
    "signing_key": "canary-param-key-c60b",
}


def test_scheduled_audit_trail_run_checkpoints_and_leaks_no_secret(
    tmp_lake: LakeTables, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    audit_env(monkeypatch, tmp_path, url)
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    engine = ready_engine(url)
    for name, value in PARAM_CANARIES.items():
        with transaction(engine) as session:
            record(
                session,
                actor=ACTOR,
                event_type="account.password" if name == "password" else "app.secret",
                object="user:alice",
                result="success",
                params={name: value, "nested": [{name: value}]},
            )
    key_file = Path(os.environ["IBRAIN_CHECKPOINT_KEY_FILE"])
    private_keys = [k["private"] for k in json.loads(key_file.read_text())["keys"]]

    security_trail, verifies = audit_trail_definitions()
    defs = dg.Definitions(
        assets=[security_trail],
        asset_checks=[verifies],
        jobs=[asset_jobs().audit_trail],
        schedules=[audit_trail_daily],
        resources={"spark": SparkResource()},
    )
    # the daemon's tick at 01:00 China Standard Time, and the run it launches
    tick = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 2, 17, tzinfo=UTC))
    (request,) = defs.resolve_schedule_def(AUDIT_SCHEDULE_NAME).evaluate_tick(tick).run_requests
    home = Path(os.environ["DAGSTER_HOME"])
    instance = dg.DagsterInstance.local_temp(str(home))
    run = defs.resolve_job_def("audit_trail").execute_in_process(
        instance=instance, tags={**request.tags, "dagster/schedule_name": AUDIT_SCHEDULE_NAME}
    )
    assert run.success
    assert [c.passed for c in run.get_asset_check_evaluations()] == [True]
    assert _evaluate(audit_daemon_run_success, instance, run.run_id, dg.DagsterEventType.RUN_SUCCESS) is None

    copied = tmp_lake.read("audit", "security_trail").orderBy("seq").collect()
    assert [(r.seq, r.event_type) for r in copied] == [
        (1, "account.password"),
        (2, "app.secret"),
        (3, "app.secret"),
        (4, "app.secret"),
    ]
    with transaction(engine) as session:
        assert [c.seq for c in session.scalars(select(AuditCheckpoint))] == [4]
        (daemon,) = session.scalars(select(AuditRecord).where(AuditRecord.principal == "system:dagster"))
        assert (daemon.seq, daemon.object, daemon.request_id) == (5, "job:audit_trail", run.run_id)
        assert json.loads(daemon.params)["launched_by"] == f"schedule:{AUDIT_SCHEDULE_NAME}"

    # every file of the Dagster home (run and event log storage, compute logs), every stored event,
    # the lake copy and the state database's records
    texts: dict[str, bytes] = {}
    for folder, _, files in os.walk(home):
        for name in files:
            texts[os.path.join(folder, name)] = Path(folder, name).read_bytes()
    assert any(name.endswith(".db") for name in texts), sorted(texts)
    events = [str(entry) for entry in instance.all_logs(run.run_id)]
    assert len(events) > 10
    texts["events"] = "\n".join(events).encode()
    texts["lake copy"] = "\n".join(str(row.asDict()) for row in copied).encode()
    with transaction(engine) as session:
        texts["records"] = "\n".join(r.params for r in session.scalars(select(AuditRecord))).encode()
    canaries = [*CANARIES.values(), *PARAM_CANARIES.values(), *private_keys]
    for canary in canaries:
        leaks = [where for where, data in texts.items() if canary.encode() in data]
        assert not leaks, f"secret {canary[:12]}… found in {leaks}"
    assert b"[redacted]" in texts["lake copy"] and b"[redacted]" in texts["records"]
    instance.dispose()
