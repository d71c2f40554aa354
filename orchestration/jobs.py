"""Jobs, schedules and sensors."""

import hashlib

import dagster as dg

from ibrain import delta
from ibrain.lake import Lake
from ibrain.settings import get_settings

PIPELINE_JOB_NAME = "ibrain_pipeline"

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Everything: pending deliveries → bronze → silver → dbt warehouses → exports.",
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


def pending_batches(lake: Lake) -> list[str]:
    """Pending batch ids from the ledger, read with delta-rs (no Spark in the sensor daemon)."""
    from deltalake import DeltaTable

    ref = lake.ref("audit", "ingest_ledger")
    if not lake.is_delta_table(ref.uri):
        return []
    table = DeltaTable(ref.uri, storage_options=lake.storage_options())
    rows = table.to_pyarrow_table(columns=["batch_id", "status"]).to_pylist()
    return sorted(r["batch_id"] for r in rows if r["status"] == "pending")


@dg.sensor(
    job=pipeline_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs the pipeline when the ingest ledger has pending deliveries.",
)
def pending_deliveries_sensor(context: dg.SensorEvaluationContext):
    pending = pending_batches(Lake(get_settings()))
    if not pending:
        return dg.SkipReason("no pending deliveries in audit.ingest_ledger")
    key = hashlib.sha256(",".join(pending).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"pending-{key}", tags={"ibrain/pending_batches": str(len(pending))})
