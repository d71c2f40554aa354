"""The one Dagster ``Definitions`` of industry-brain (loaded by workspace.yaml)."""

import dagster as dg

from orchestration.assets.dbt import dbt_resource, dbt_warehouse
from orchestration.assets.exports import export_assets
from orchestration.assets.ingest import api_pull_log, bronze_assets, ingest_ledger
from orchestration.assets.reference import reference_tables
from orchestration.assets.silver import enterprise_match_review, silver_assets
from orchestration.jobs import (
    INGEST_JOB_NAMES,
    PIPELINE_JOB_NAME,
    delta_maintenance,
    delta_maintenance_schedule,
    downstream_after_ingest,
    ingest_daily,
    ingest_monthly,
    pending_deliveries_sensor,
    pipeline_job,
    registry_daily_pull,
)
from orchestration.resources import SparkResource

defs = dg.Definitions(
    assets=[
        ingest_ledger,
        api_pull_log,
        reference_tables,
        *bronze_assets.values(),
        *silver_assets,
        enterprise_match_review,
        *dbt_warehouse,
        *export_assets,
    ],
    jobs=[pipeline_job, ingest_monthly, ingest_daily, delta_maintenance],
    schedules=[delta_maintenance_schedule, registry_daily_pull],
    sensors=[pending_deliveries_sensor, downstream_after_ingest],
    resources={"spark": SparkResource(), "dbt": dbt_resource()},
    executor=dg.in_process_executor,
)


# Module-level job factories, so ``dagster.reconstructable`` can rebuild each job (ibrain run).
def ibrain_pipeline() -> dg.JobDefinition:
    return defs.resolve_job_def(PIPELINE_JOB_NAME)


def ingest_monthly_job() -> dg.JobDefinition:
    return defs.resolve_job_def(INGEST_JOB_NAMES["month"])


def ingest_daily_job() -> dg.JobDefinition:
    return defs.resolve_job_def(INGEST_JOB_NAMES["day"])


def delta_maintenance_job() -> dg.JobDefinition:
    return defs.resolve_job_def("delta_maintenance")
